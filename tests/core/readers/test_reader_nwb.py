"""NWB reader on the BBP-layout hippocampus file (spec §7.5, §10.3 test_nwbreader)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import h5py
import numpy as np
import pytest

from efex_gui.core.errors import MetadataError
from efex_gui.core.readers import (
    inspect_file,
    list_nwb_protocols,
    nwb_reader,
    read_file,
)
from tests.conftest import shared_path

if TYPE_CHECKING:
    from pathlib import Path

KEYS = {"voltage", "current", "dt", "id", "i_unit", "v_unit", "t_unit"}


def _config(**extra: object) -> dict:
    path = shared_path("bluepyefe-exp-data", "hippocampus-portal", "99111002.nwb")
    return {"filepath": str(path), "protocol_name": "Step", **extra}


def test_bbp_file_gives_16_step_sweeps_in_sweep_order() -> None:
    traces = read_file(_config())
    assert len(traces) == 16
    assert [t["id"] for t in traces] == [f"ic__Step__{n}" for n in range(1, 17)]
    for trace in traces:
        assert set(trace) >= KEYS
        assert trace["dt"] == pytest.approx(1e-4, rel=1e-12)
        assert (trace["v_unit"], trace["i_unit"]) == ("volts", "amperes")
        assert trace["voltage"].dtype == np.float32
        assert trace["repetition"] == 1


def test_bbp_steps_go_from_minus_2_to_plus_1_na() -> None:
    traces = read_file(_config())
    extremes = [t["current"][np.argmax(np.abs(t["current"]))] * 1e9 for t in traces]
    assert extremes[0] == pytest.approx(-2.0, abs=1e-3)
    assert extremes[-1] == pytest.approx(1.0, abs=1e-3)
    assert np.all(np.diff(extremes) > 0)
    # baseline offset of this file (formats.md T17): about -15 mV, in volts
    assert np.median(traces[0]["voltage"][:100]) == pytest.approx(-0.015, abs=0.005)


def test_protocol_match_is_case_insensitive_and_filters() -> None:
    assert len(nwb_reader(_config(protocol_name="step"))) == 16
    assert len(nwb_reader(_config(protocol_name=["IDRest", "Step"]))) == 16
    assert nwb_reader(_config(protocol_name="IDRest")) == []


def test_repetitions_select_and_an_absent_one_raises_value_error() -> None:
    assert len(nwb_reader(_config(repetition=1))) == 16
    assert len(nwb_reader(_config(repetition=["1"]))) == 16
    with pytest.raises(ValueError, match="Repetition"):
        nwb_reader(_config(repetition=2))


def test_v_file_keeps_only_traces_described_by_that_file() -> None:
    # every trace of this file has description "NA"
    assert nwb_reader(_config(v_file="some_other_file.ibw")) == []


def test_protocol_name_is_required() -> None:
    config = _config()
    del config["protocol_name"]
    with pytest.raises(MetadataError, match="protocol_name"):
        nwb_reader(config)


def test_listing_and_inspection_read_no_traces() -> None:
    path = _config()["filepath"]
    listing = list_nwb_protocols(path)
    assert list(listing) == ["Step"]
    assert len(listing["Step"]) == 16
    info = inspect_file(path)
    assert info["layout"] == "bbp"
    assert info["n_sweeps"] == 16
    assert info["sampling_rate"] == 10000.0


def _series(
    group: h5py.Group,
    name: str,
    kind: str,
    data: np.ndarray,
    unit: str,
    sweep: int | None = None,
) -> h5py.Group:
    series = group.create_group(name)
    series.attrs["neurodata_type"] = kind
    series.attrs["stimulus_description"] = "IDRest"
    series.create_dataset("data", data=data).attrs["unit"] = unit
    series.create_dataset("starting_time", data=0.0).attrs["rate"] = 20000.0
    if sweep is not None:
        series.attrs["sweep_number"] = np.uint32(sweep)
    return series


def test_plain_nwb2_sweeps_pair_by_table_or_sweep_number(tmp_path: Path) -> None:
    path = tmp_path / "plain.nwb"
    with h5py.File(path, "w") as f:
        acquisition = f.create_group("acquisition")
        presentation = f.create_group("stimulus/presentation")
        # paired through the intracellular_recordings table (object references)
        response = _series(
            acquisition, "response_a", "CurrentClampSeries", np.full(10, -0.07), "volts"
        )
        stimulus = _series(
            presentation,
            "command_a",
            "CurrentClampStimulusSeries",
            np.full(10, 1e-10),
            "amperes",
        )
        ref = h5py.ref_dtype
        row = np.dtype([("idx_start", "<i4"), ("count", "<i4"), ("timeseries", ref)])
        table = f.create_group("general/intracellular_ephys/intracellular_recordings")
        table.create_dataset(
            "responses/response", data=np.array([(0, 10, response.ref)], dtype=row)
        )
        table.create_dataset(
            "stimuli/stimulus", data=np.array([(0, 10, stimulus.ref)], dtype=row)
        )
        # paired through equal sweep numbers
        _series(
            acquisition,
            "response_b",
            "CurrentClampSeries",
            np.full(10, -0.06),
            "volts",
            sweep=7,
        )
        _series(
            presentation,
            "command_other",
            "CurrentClampStimulusSeries",
            np.full(10, 3e-10),
            "amperes",
            sweep=6,
        )
        _series(
            presentation,
            "command_b",
            "CurrentClampStimulusSeries",
            np.full(10, 2e-10),
            "amperes",
            sweep=7,
        )
        # voltage clamp: never paired, never read
        _series(acquisition, "vc", "VoltageClampSeries", np.zeros(10), "amperes", 7)
    traces = nwb_reader({"filepath": str(path), "protocol_name": "IDRest"})
    assert [t["id"] for t in traces] == ["response_a", "response_b"]
    assert traces[0]["current"][0] == np.float32(1e-10)
    assert traces[1]["current"][0] == np.float32(2e-10)
    assert traces[0]["dt"] == pytest.approx(5e-5)


def test_offset_is_applied_and_timestamps_give_dt(tmp_path: Path) -> None:
    path = tmp_path / "offset.nwb"
    with h5py.File(path, "w") as f:
        acquisition = f.create_group("acquisition")
        response = _series(
            acquisition,
            "CurrentClampSeries_1",
            "CurrentClampSeries",
            np.full(5, -70.0),
            "volts",
        )
        response["data"].attrs["conversion"] = 1e-3
        response["data"].attrs["offset"] = -0.01
        del response["starting_time"]
        response.create_dataset("timestamps", data=np.arange(5) * 2e-4)
        _series(
            f.create_group("stimulus/presentation"),
            "CurrentClampStimulusSeries_1",
            "CurrentClampStimulusSeries",
            np.zeros(5),
            "amperes",
        )
    (trace,) = nwb_reader({"filepath": str(path), "protocol_name": "IDRest"})
    assert trace["voltage"][0] == np.float32(-0.08)
    assert trace["dt"] == pytest.approx(2e-4)


def _vc_file(path: Path, n_cc: int, n_vc: int) -> Path:
    """Scala-named series; the voltage-clamp ones have a stimulus twin by name."""
    with h5py.File(path, "w") as f:
        acquisition = f.create_group("acquisition")
        presentation = f.create_group("stimulus/presentation")
        for k in range(n_cc):
            _series(
                acquisition,
                f"CurrentClampSeries_{k}",
                "CurrentClampSeries",
                np.full(10, -0.07),
                "volts",
            )
            _series(
                presentation,
                f"CurrentClampStimulusSeries_{k}",
                "CurrentClampStimulusSeries",
                np.full(10, 1e-10),
                "amperes",
            )
        for k in range(n_vc):
            _series(
                acquisition,
                f"VoltageClampSeries_{k}",
                "VoltageClampSeries",
                np.zeros(10),
                "amperes",
            )
            _series(
                presentation,
                f"VoltageClampStimulusSeries_{k}",
                "VoltageClampStimulusSeries",
                np.full(10, -0.07),
                "volts",
            )
    return path


def test_voltage_clamp_series_are_skipped_with_a_count(tmp_path: Path) -> None:
    path = _vc_file(tmp_path / "mixed.nwb", n_cc=2, n_vc=3)
    traces = nwb_reader({"filepath": str(path), "protocol_name": "IDRest"})
    assert [t["id"] for t in traces] == ["CurrentClampSeries_0", "CurrentClampSeries_1"]
    assert traces[0]["reader_note"] == "3 voltage-clamp series skipped"
    info = inspect_file(str(path))
    assert info["n_voltage_clamp"] == 3
    # the import dialog and `efex inspect` list the same protocols
    assert info["protocols"] == sorted(list_nwb_protocols(str(path))) == ["IDRest"]


def test_a_voltage_clamp_only_nwb_is_refused(tmp_path: Path) -> None:
    from efex_gui.core.errors import NotARecordingError

    path = _vc_file(tmp_path / "vc.nwb", n_cc=0, n_vc=2)
    with pytest.raises(NotARecordingError, match="voltage clamp: 2 series"):
        nwb_reader({"filepath": str(path), "protocol_name": None})
    assert inspect_file(str(path))["protocols"] == []
