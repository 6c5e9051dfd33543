"""Damaged and odd inputs: each failure is a ReaderError or MetadataError naming it."""

from __future__ import annotations

import shutil
from typing import TYPE_CHECKING

import h5py
import numpy as np
import pytest

from efex_gui.core.errors import MetadataError, ReaderError
from efex_gui.core.readers import (
    READERS,
    ReaderFileNotFoundError,
    axon_reader,
    read_file,
    reader_for,
    register_reader,
)
from efex_gui.core.readers._common import validate_trace
from tests.conftest import shared_path

if TYPE_CHECKING:
    from pathlib import Path

SAMPLES = {
    "abf": ("formats", "abf", "2020_03_02_0000.abf"),
    "nwb": ("bluepyefe-exp-data", "hippocampus-portal", "99111002.nwb"),
    "ibw": ("bluepyefe-exp-data", "B6", "B6_Ch3_IDRest_181.ibw"),
    "wcp": ("formats", "wcp", "myokit-wcp-file.wcp"),
}


def _config(path: Path) -> dict:
    if path.suffix == ".ibw":
        return {"v_file": str(path), "i_file": str(path), "t_unit": "s"}
    return {
        "filepath": str(path),
        "protocol_name": "Step",
        "t_unit": "ms",
        "v_unit": "mV",
        "i_unit": "pA",
        "amplitudes": [1],
        "dt": 0.1,
        "ton": 1,
        "toff": 2,
        "hypamp": 0,
        "amp": 1,
    }


def _assert_fails_naming(path: Path, error: type = ReaderError) -> None:
    with pytest.raises(error) as info:
        read_file(_config(path))
    assert str(path) in str(info.value) or path.name in str(info.value)


@pytest.mark.parametrize("kind", sorted(SAMPLES))
@pytest.mark.parametrize("fraction", [0.5, 0.02])
def test_truncated_copies_raise_reader_error(
    kind: str, fraction: float, tmp_path: Path
) -> None:
    source = shared_path(*SAMPLES[kind])
    data = source.read_bytes()
    damaged = tmp_path / f"truncated.{kind}"
    damaged.write_bytes(data[: int(len(data) * fraction)])
    _assert_fails_naming(damaged)


@pytest.mark.parametrize(
    "extension", [".abf", ".ibw", ".nwb", ".txt", ".csv", ".dat", ".atf", ".wcp"]
)
def test_random_bytes_raise_reader_error(extension: str, tmp_path: Path) -> None:
    damaged = tmp_path / f"noise{extension}"
    damaged.write_bytes(np.random.default_rng(0).bytes(8192))
    _assert_fails_naming(damaged)


@pytest.mark.parametrize("extension", [".abf", ".ibw", ".nwb", ".txt", ".wcp", ".atf"])
def test_zero_length_files_raise_reader_error(extension: str, tmp_path: Path) -> None:
    empty = tmp_path / f"empty{extension}"
    empty.touch()
    with pytest.raises(ReaderError, match="empty") as info:
        read_file(_config(empty))
    assert empty.name in str(info.value)


@pytest.mark.parametrize("extension", [".abf", ".ibw", ".nwb", ".txt", ".wcp"])
def test_missing_files_are_file_not_found(extension: str, tmp_path: Path) -> None:
    missing = tmp_path / f"missing{extension}"
    with pytest.raises(FileNotFoundError):
        read_file(_config(missing))
    with pytest.raises(ReaderFileNotFoundError, match="missing"):
        read_file(_config(missing))


def test_wrong_extension_and_wrong_content(tmp_path: Path) -> None:
    _assert_fails_naming(tmp_path / "recording.xyz")
    source = shared_path(*SAMPLES["ibw"])
    disguised = tmp_path / "wave.abf"
    shutil.copy(source, disguised)
    with pytest.raises(ReaderError, match="not an Axon ABF"):
        axon_reader({"filepath": str(disguised)})
    disguised_nwb = tmp_path / "wave.nwb"
    shutil.copy(source, disguised_nwb)
    with pytest.raises(ReaderError, match="HDF5"):
        read_file({"filepath": str(disguised_nwb), "protocol_name": "Step"})


def test_heka_bundle_gets_a_specific_message(tmp_path: Path) -> None:
    bundle = tmp_path / "cell.dat"
    bundle.write_bytes(b"DAT2" + bytes(100))
    with pytest.raises(ReaderError, match="HEKA"):
        read_file({"filepath": str(bundle), "t_unit": "s", "v_unit": "V"})


def test_dispatch_reads_the_suffix_from_the_end() -> None:
    # a text export named after its ABF source is text (issue 13)
    assert reader_for("/data/cell.abf.txt") is READERS[".txt"]
    assert reader_for("/data/X.abf.csv") is READERS[".csv"]
    # no known suffix at the end: BluePyEfe's substring order
    assert reader_for("/data/cell.nwb.backup") is READERS[".nwb"]
    assert reader_for("/data/CELL.WCP") is READERS[".wcp"]
    with pytest.raises(MetadataError, match="filepath") as info:
        read_file({"i_unit": "pA"})
    assert isinstance(info.value, KeyError)


def test_register_reader_plugs_in_a_new_format(tmp_path: Path) -> None:
    calls = []

    def fake_reader(config_data: dict) -> list[dict]:
        calls.append(config_data["filepath"])
        return []

    register_reader("fake42", fake_reader)
    try:
        assert read_file({"filepath": str(tmp_path / "x.fake42")}) == []
        assert calls == [str(tmp_path / "x.fake42")]
    finally:
        del READERS[".fake42"]


def test_traces_with_nan_mismatched_lengths_or_bad_dt_are_rejected() -> None:
    good = {"voltage": np.zeros(10), "current": np.zeros(10), "dt": 0.1, "id": "s1"}
    validate_trace("f.abf", dict(good), 0)
    bad = {
        "NaN": dict(good, voltage=np.array([0.0, np.nan] * 5)),
        "inf": dict(good, current=np.array([np.inf] * 10)),
        "samples but current": dict(good, current=np.zeros(9)),
        "no samples": dict(good, voltage=np.zeros(0), current=np.zeros(0)),
        "dt=0": dict(good, dt=0.0),
        "dt=-0.1": dict(good, dt=-0.1),
    }
    for message, trace in bad.items():
        with pytest.raises(ReaderError, match=message) as info:
            validate_trace("f.abf", trace, 0)
        assert "f.abf" in str(info.value)
        assert "s1" in str(info.value)


def _nwb_with_nan(path: Path) -> None:
    with h5py.File(path, "w") as f:
        for k, first in enumerate([0.0, np.nan]):
            response = f.create_group(f"acquisition/CurrentClampSeries_{k:03d}")
            response.attrs["stimulus_description"] = "Step"
            data = response.create_dataset("data", data=np.array([first, 1.0, 2.0]))
            data.attrs["unit"] = "volts"
            response.create_dataset("starting_time", data=0.0).attrs["rate"] = 1e4
            stimulus = f.create_group(
                f"stimulus/presentation/CurrentClampStimulusSeries_{k:03d}"
            )
            stimulus.create_dataset("data", data=np.zeros(3)).attrs["unit"] = "amperes"
            stimulus.create_dataset("starting_time", data=0.0).attrs["rate"] = 1e4


def test_nan_sweep_fails_the_file_unless_bad_traces_are_skipped(tmp_path: Path) -> None:
    path = tmp_path / "nan.nwb"
    _nwb_with_nan(path)
    with pytest.raises(ReaderError, match=r"CurrentClampSeries_001.*NaN"):
        read_file({"filepath": str(path), "protocol_name": "Step"})
    traces = read_file(
        {"filepath": str(path), "protocol_name": "Step", "skip_bad_traces": True}
    )
    assert [t["id"] for t in traces] == ["CurrentClampSeries_000"]


def test_nan_in_text_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "trace.csv"
    path.write_text("0,-70\n0.1,nan\n0.2,-70\n")
    with pytest.raises(ReaderError, match="NaN"):
        read_file(
            {
                "filepath": str(path),
                "t_unit": "ms",
                "v_unit": "mV",
                "i_unit": "nA",
                "ton": 0,
                "toff": 0.1,
                "amp": 0,
            }
        )
