"""One contract every reader passes, on every real sample file in ../shared/data."""

from __future__ import annotations

import glob
import os

import numpy as np
import pytest

from efex_gui.core.readers import read_file
from efex_gui.core.units import is_known_unit
from tests.conftest import SHARED_DATA, shared_path

LCCR_AMPLITUDES = [
    10,
    -10,
    20,
    -20,
    30,
    -30,
    40,
    -40,
    50,
    -50,
    60,
    -60,
    70,
    -70,
    80,
    -80,
    90,
    -90,
    100,
    -100,
    150,
    200,
    250,
    300,
    400,
    500,
    600,
]
ABF_UNITS = {"i_unit": "pA", "v_unit": "mV", "t_unit": "s"}


def _igor_pairs() -> list[tuple[str, dict]]:
    cases = []
    for folder, cur, volt in (("B6", "Ch0", "Ch3"), ("B8", "Ch0", "Ch3")):
        pattern = os.path.join(
            SHARED_DATA, "bluepyefe-exp-data", folder, f"*_{cur}_*.ibw"
        )
        for i_file in sorted(glob.glob(pattern)):
            cases.append(
                (
                    os.path.basename(i_file),
                    {
                        "i_file": i_file,
                        "v_file": i_file.replace(cur, volt),
                        "t_unit": "s",
                    },
                )
            )
    seen = set()
    pattern = os.path.join(SHARED_DATA, "sscx", "input-traces", "*", "X_*_ch0_*.ibw")
    for i_file in sorted(glob.glob(pattern)):
        key = (i_file.split(os.sep)[-2], os.path.basename(i_file).split("_")[1])
        if key not in seen:  # one sweep per cell and protocol
            seen.add(key)
            cases.append(
                (
                    f"{key[0]}-{key[1]}",
                    {
                        "i_file": i_file,
                        "v_file": i_file.replace("_ch0_", "_ch1_"),
                        "t_unit": "s",
                    },
                )
            )
    return cases


def _cases() -> list[tuple[str, dict]]:
    data = str(SHARED_DATA)
    exp = f"{data}/bluepyefe-exp-data"
    cases = _igor_pairs()
    cases.append(
        (
            "B95",
            {
                "i_file": f"{data}/bluepyefe-exp-data/B95_Ch0_IDRest_107.ibw",
                "v_file": f"{data}/bluepyefe-exp-data/B95_Ch3_IDRest_107.ibw",
                "t_unit": "s",
            },
        )
    )
    cases.append(
        (
            "nwb-bbp",
            {
                "filepath": f"{exp}/hippocampus-portal/99111002.nwb",
                "protocol_name": "Step",
            },
        )
    )
    for abf in sorted(glob.glob(f"{data}/formats/abf/*.abf")):
        cases.append((os.path.basename(abf), dict(ABF_UNITS, filepath=abf)))
    cases.append(
        (
            "lccr",
            {
                "filepath": f"{exp}/csv_lccr/dummy/dummy_ch1_cols.txt",
                "dt": 0.1,
                "amplitudes": LCCR_AMPLITUDES,
                "hypamp": -20,
                "ton": 200,
                "toff": 800,
                "v_unit": "mV",
                "t_unit": "ms",
                "i_unit": "pA",
                "remove_last_100ms": True,
            },
        )
    )
    cases.append(
        (
            "text",
            {
                "filepath": f"{data}/formats/text/example_trace1.txt",
                "t_unit": "ms",
                "v_unit": "mV",
                "i_unit": "nA",
                "ton": 700.0,
                "toff": 2700.0,
                "amp": 0.3,
                "hypamp": 0.0,
            },
        )
    )
    cases.append(("wcp", {"filepath": f"{data}/formats/wcp/myokit-wcp-file.wcp"}))
    return cases


CASES = _cases()


@pytest.mark.shared
@pytest.mark.parametrize(
    "config",
    [c for _, c in CASES] or [None],
    ids=[name for name, _ in CASES] or ["no-data"],
)
def test_every_sample_reads_into_valid_traces(config: dict | None) -> None:
    shared_path()
    if config is None:
        pytest.skip("no sample files found")
    traces = read_file(dict(config))
    assert isinstance(traces, list) and traces
    for trace in traces:
        voltage = np.asarray(trace["voltage"])
        current = np.asarray(trace["current"])
        assert voltage.ndim == 1 and voltage.size > 0
        assert current.shape == voltage.shape
        assert np.isfinite(voltage).all() and np.isfinite(current).all()
        assert float(trace.get("dt") or config.get("dt")) > 0
        units = {
            k: config.get(k) or trace.get(k) for k in ("v_unit", "i_unit", "t_unit")
        }
        assert is_known_unit(units["v_unit"], "voltage"), units
        assert is_known_unit(units["i_unit"], "current"), units
        assert is_known_unit(units["t_unit"], "time"), units
