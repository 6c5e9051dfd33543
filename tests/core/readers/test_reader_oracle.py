"""Our readers return BluePyEfe 2.3.63's reader outputs exactly (arrays, dtypes).

BluePyEfe is only run here, as an oracle; the test skips when it is not installed.
The NWB layouts it supports but our shared data lacks (Scala, TRT, VU) are pinned on
small files written in each layout in tmp_path.
"""

from __future__ import annotations

import glob
import logging
import warnings
from typing import TYPE_CHECKING, Any

import h5py
import numpy as np
import pytest

from efex_gui.core.readers import read_file
from tests.conftest import SHARED_DATA, shared_path
from tests.core.readers._samples import LCCR_FILE, lccr_config

if TYPE_CHECKING:
    from pathlib import Path


@pytest.fixture(scope="module")
def oracle() -> Any:
    pytest.importorskip("bluepyefe")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from bluepyefe import reader
    return reader


def assert_same_traces(ours: list[dict], theirs: list[dict]) -> None:
    assert len(ours) == len(theirs)
    for mine, expected in zip(ours, theirs, strict=True):
        assert set(expected) <= set(mine)
        for key, value in expected.items():
            if isinstance(value, np.ndarray):
                assert mine[key].dtype == value.dtype, key
                np.testing.assert_array_equal(mine[key], value, err_msg=key)
            else:
                assert mine[key] == value, key
                assert type(mine[key]) is type(value), key


def _quiet(function: Any, config: dict) -> list[dict]:
    logging.disable(logging.WARNING)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return function(dict(config))
    finally:
        logging.disable(logging.NOTSET)


def test_igor_b6_b95_and_sscx(oracle: Any) -> None:
    folder = shared_path("bluepyefe-exp-data")
    pairs = [
        (
            folder / "B6" / f"B6_Ch3_IDRest_{n}.ibw",
            folder / "B6" / f"B6_Ch0_IDRest_{n}.ibw",
        )
        for n in range(181, 186)
    ]
    pairs.append((folder / "B95_Ch3_IDRest_107.ibw", folder / "B95_Ch0_IDRest_107.ibw"))
    sscx = shared_path("sscx", "input-traces", "C060109A1-SR-C1")
    for name in ("IDthresh_ch{}_349", "APWaveform_ch{}_296", "sAHP_ch{}_320"):
        pairs.append(
            (sscx / f"X_{name.format(1)}.ibw", sscx / f"X_{name.format(0)}.ibw")
        )
    for v_file, i_file in pairs:
        config = {"v_file": str(v_file), "i_file": str(i_file), "t_unit": "s"}
        assert_same_traces(read_file(dict(config)), _quiet(oracle.igor_reader, config))


def test_nwb_bbp_file(oracle: Any) -> None:
    path = shared_path("bluepyefe-exp-data", "hippocampus-portal", "99111002.nwb")
    for extra in ({}, {"repetition": 1}, {"protocol_name": ["step"]}):
        config = {"filepath": str(path), "protocol_name": "Step", **extra}
        assert_same_traces(read_file(dict(config)), _quiet(oracle.nwb_reader, config))


def test_lccr(oracle: Any) -> None:
    path = shared_path(*LCCR_FILE)
    for extra in ({"remove_last_100ms": True}, {"dt": 0.3, "ton": 200.05, "ljp": 14}):
        config = lccr_config(path, **extra)
        assert_same_traces(
            read_file(dict(config)), _quiet(oracle.csv_lccr_reader, config)
        )


def test_abf_files_bluepyefe_can_read(oracle: Any) -> None:
    shared_path("formats", "abf")
    compared = 0
    for path in sorted(glob.glob(str(SHARED_DATA / "formats" / "*" / "*.abf"))):
        try:
            expected = _quiet(oracle.axon_reader, {"filepath": path})
        except Exception:  # BluePyEfe cannot read single-channel files; we can
            continue
        if "memtest" in path or "18702001" in path:
            # voltage clamp: BluePyEfe reads the membrane current as a voltage, we
            # refuse it (docs/compatibility.md)
            continue
        assert_same_traces(read_file({"filepath": path}), expected)
        compared += 1
    assert compared >= 3


def _series(
    group: h5py.Group,
    name: str,
    data: np.ndarray,
    conversion: float,
    unit: str,
    description: str | None = None,
    neurodata_type: str = "CurrentClampSeries",
) -> h5py.Group:
    series = group.create_group(name)
    dataset = series.create_dataset("data", data=data)
    dataset.attrs["conversion"] = conversion
    dataset.attrs["unit"] = unit
    start = series.create_dataset("starting_time", data=0.0)
    start.attrs["rate"] = 10000.0
    start.attrs["unit"] = "seconds"
    series.attrs["neurodata_type"] = neurodata_type
    if description is not None:
        series.attrs["stimulus_description"] = description
    return series


def _scala_file(path: Path) -> None:
    rng = np.random.default_rng(1)
    with h5py.File(path, "w") as f:
        acquisition = f.create_group("acquisition")
        presentation = f.create_group("stimulus/presentation")
        descriptions = ["Step", "NA", "GenericStep", "IDRest", None, "stepX"]
        for k, description in enumerate(descriptions):
            voltage = rng.normal(-70, 5, 500).astype(np.float32)
            _series(
                acquisition,
                f"CurrentClampSeries_{k:03d}",
                voltage,
                1e-3,
                "volts",
                description,
            )
            _series(
                presentation,
                f"CurrentClampStimulusSeries_{k:03d}",
                rng.normal(0, 100, 500),
                1e-12,
                "amperes",
                description,
                "CurrentClampStimulusSeries",
            )
        table = f.create_group("general/intracellular_ephys/intracellular_recordings")
        table.create_dataset("repetition", data=np.array([1, 1, 2, 2, 3, 3]))


def _trt_file(path: Path) -> None:
    with h5py.File(path, "w") as f:
        acquisition = f.create_group("acquisition")
        presentation = f.create_group("stimulus/presentation")
        for k in range(3):
            _series(
                acquisition,
                f"index_{k:02d}",
                np.full(50, -70.0 + k, np.float32),
                1e-3,
                "volts",
            )
        _series(acquisition, "index_03", np.full(50, -67.0, np.float32), 1e-12, "volts")
        for j in range(8):
            swapped = j == 7  # the known unit mix-up of these files
            _series(
                presentation,
                f"index_{j:02d}",
                np.full(50, 100.0 * j),
                1e-3 if swapped else 1e-12,
                "volts" if swapped else "amperes",
            )


def _vu_file(path: Path) -> None:
    rng = np.random.default_rng(2)
    descriptions = [
        "X1PS_SubThresh_DA_0",
        "X3LP_Rheo_DA_0",
        "CCSteps_DA_0",
        "X7Ramp_DA_0",
        "X3LP_Rheo_DA_0",
        "Unknown_DA_0",
    ]
    with h5py.File(path, "w") as f:
        acquisition = f.create_group("acquisition")
        presentation = f.create_group("stimulus/presentation")
        for k, description in enumerate(descriptions):
            voltage = rng.normal(-70, 5, 3000).astype(np.float32)
            current = rng.normal(0, 100, 3000)
            if k == 4:
                current[-40:] = np.nan  # trailing NaNs are trimmed
            response = _series(
                acquisition, f"data_{k:05d}_AD0", voltage, 1e-3, "volts", description
            )
            if k != 3:
                bias = np.float32(12.5) if k % 2 else np.float64(-7.25)
                response.create_dataset("bias_current", data=bias)
            _series(
                presentation,
                f"data_{k:05d}_DA0",
                current,
                1e-12,
                "amperes",
                description,
                "CurrentClampStimulusSeries",
            )


LAYOUT_CASES = {
    "scala": (
        _scala_file,
        [
            {"protocol_name": p}
            for p in ("Step", "GenericStep", "idrest", ["Step", "IDRest"], None)
        ]
        + [
            {"protocol_name": "Step", "repetition": [1, 3]},
            {"protocol_name": "IDRest", "repetition": "2"},
        ],
    ),
    "trt": (_trt_file, [{"protocol_name": p} for p in ("Step", "IDRest", None)]),
    "vu": (
        _vu_file,
        [{"protocol_name": p} for p in ("IV", "IDRest", "step", "Ramp", None)]
        + [{"protocol_name": "IDRest", "toff": 299.0}],
    ),
}


@pytest.mark.parametrize("layout", sorted(LAYOUT_CASES))
def test_nwb_layouts_written_in_tmp(layout: str, oracle: Any, tmp_path: Path) -> None:
    writer, configs = LAYOUT_CASES[layout]
    path = tmp_path / f"{layout}.nwb"
    writer(path)
    for extra in configs:
        config = {"filepath": str(path), **extra}
        expected = _quiet(oracle.nwb_reader, config)
        assert_same_traces(_quiet(read_file, config), expected)
        if layout != "trt" or extra["protocol_name"] != "IDRest":
            assert expected, f"the oracle found no trace for {extra}"
