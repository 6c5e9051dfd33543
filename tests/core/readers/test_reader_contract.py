"""One contract every reader passes, on every real sample file in ../shared/data."""

from __future__ import annotations

import glob
import os

import numpy as np
import pytest

from efex_gui.core.readers import read_file
from efex_gui.core.units import is_known_unit
from tests.conftest import SHARED_DATA, shared_path
from tests.core.readers._samples import LCCR_FILE, TEXT_FILE, lccr_config, text_config

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
    lccr = lccr_config(SHARED_DATA.joinpath(*LCCR_FILE), remove_last_100ms=True)
    cases.append(("lccr", lccr))
    cases.append(("text", text_config(SHARED_DATA.joinpath(*TEXT_FILE), hypamp=0.0)))
    # a voltage-clamp file read with its channels forced (refused otherwise)
    cases.append(
        (
            "wcp",
            {"filepath": f"{data}/formats/wcp/myokit-wcp-file.wcp", "v_channel": "Vm"},
        )
    )
    heka = f"{data}/formats/heka/190604s1c7r1.dat"
    cases.append(("heka", {"filepath": heka}))
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
    assert isinstance(traces, list)
    assert traces
    for trace in traces:
        voltage = np.asarray(trace["voltage"])
        current = np.asarray(trace["current"])
        assert voltage.ndim == 1
        assert voltage.size > 0
        assert current.shape == voltage.shape
        assert np.isfinite(voltage).all()
        assert np.isfinite(current).all()
        assert float(trace.get("dt") or config.get("dt")) > 0
        units = {
            k: config.get(k) or trace.get(k) for k in ("v_unit", "i_unit", "t_unit")
        }
        assert is_known_unit(units["v_unit"], "voltage"), units
        assert is_known_unit(units["i_unit"], "current"), units
        assert is_known_unit(units["t_unit"], "time"), units


VOLTAGE_CLAMP = (
    ("wcp", "myokit-wcp-file.wcp"),
    ("atf", "18702001-step.atf"),
    ("atf", "18702001-step.abf"),
)


@pytest.mark.shared
@pytest.mark.parametrize(("folder", "name"), VOLTAGE_CLAMP)
def test_every_voltage_clamp_sample_is_refused(folder: str, name: str) -> None:
    from efex_gui.core.errors import NotARecordingError

    path = str(shared_path("formats", folder, name))
    with pytest.raises(NotARecordingError) as info:
        read_file({"filepath": path})
    assert info.value.kind == "voltage clamp"
    assert "of membrane current" in info.value.detail


CLAMPS = (
    ("abf", "17o05028_ic_steps.abf", "current"),
    ("abf", "190619B_0003.abf", "current"),
    ("heka", "190604s1c7r1.dat", "current"),
    ("wcp", "myokit-wcp-file.wcp", "voltage"),
    ("atf", "18702001-step.atf", "voltage"),
    ("atf", "18702001-step.abf", "voltage"),
    ("text", "example_trace1.txt", None),
)


@pytest.mark.shared
@pytest.mark.parametrize(("folder", "name", "clamp"), CLAMPS)
def test_inspection_reports_the_clamp_mode(
    folder: str, name: str, clamp: str | None
) -> None:
    from efex_gui.core.readers import inspect_file

    assert inspect_file(str(shared_path("formats", folder, name)))["clamp"] == clamp
