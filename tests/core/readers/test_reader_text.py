"""LCCR text (spec §10.3 test_lccr_csv_reader), two-column text, ATF and WinWCP."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pytest

from efex_gui.core.errors import MetadataError, NotARecordingError, ReaderError
from efex_gui.core.readers import (
    atf_reader,
    csv_lccr_reader,
    inspect_file,
    read_file,
    text_reader,
    wcp_reader,
)
from tests.conftest import shared_path
from tests.core.readers._samples import (
    LCCR_AMPLITUDES,
    LCCR_FILE,
    TEXT_FILE,
    lccr_config,
    text_config,
    text_units,
)

if TYPE_CHECKING:
    from pathlib import Path

LCCR_KEYS = {
    "filename",
    "current",
    "voltage",
    "t",
    "dt",
    "ton",
    "toff",
    "amp",
    "hypamp",
    "ljp",
    "i_unit",
    "v_unit",
    "t_unit",
}


def _lccr(**extra: object) -> dict:
    return lccr_config(shared_path(*LCCR_FILE), **{"remove_last_100ms": True, **extra})


def test_lccr_reads_27_traces_with_13_keys_and_13000_samples() -> None:
    traces = read_file(_lccr())
    assert len(traces) == 27
    for trace, amplitude in zip(traces, LCCR_AMPLITUDES, strict=True):
        assert set(trace) == LCCR_KEYS
        assert len(trace["voltage"]) == len(trace["current"]) == 13000
        assert trace["amp"] == amplitude
        assert trace["current"][1999] == -20
        assert trace["current"][2000] == -20 + amplitude
        assert trace["current"][7999] == -20 + amplitude
        assert trace["current"][8000] == -20


def test_lccr_edge_cases() -> None:
    assert csv_lccr_reader(_lccr(amplitudes=[])) == []
    assert len(csv_lccr_reader(_lccr(amplitudes=LCCR_AMPLITUDES[:3]))) == 3
    assert len(csv_lccr_reader(_lccr(remove_last_100ms=False))[0]["voltage"]) == 14000
    with pytest.raises(FileNotFoundError):
        csv_lccr_reader(_lccr(filepath="/nonexistent/dummy.txt"))
    with pytest.raises(ReaderError, match="nonexistent"):
        csv_lccr_reader(_lccr(filepath="/nonexistent/dummy.txt"))
    config = _lccr()
    del config["hypamp"]
    with pytest.raises(KeyError, match="hypamp"):
        csv_lccr_reader(config)


def test_lccr_dash_and_empty_cells_are_zero(tmp_path: Path) -> None:
    path = tmp_path / "cells.txt"
    path.write_text("1.5\t-\n-\t2.5\n3.5\t\n")
    a, b = csv_lccr_reader(
        _lccr(filepath=str(path), remove_last_100ms=False, amplitudes=[1, 2])
    )
    np.testing.assert_array_equal(a["voltage"], [1.5, 0.0, 3.5])
    np.testing.assert_array_equal(b["voltage"], [0.0, 2.5, 0.0])


def _example(**extra: object) -> dict:
    return text_config(shared_path(*TEXT_FILE), **extra)


def test_two_column_text_gets_dt_and_a_synthesised_step() -> None:
    (trace,) = read_file(_example())
    assert trace["voltage"].size == 12000
    assert trace["dt"] == 0.25  # float32 time column rounded back
    assert trace["current"][int(700 / 0.25) - 1] == -0.05
    assert trace["current"][int(700 / 0.25)] == pytest.approx(0.25)
    assert trace["current"][int(2700 / 0.25)] == -0.05
    assert trace["current_source"] == "metadata"


def test_text_needs_its_stimulus_and_units() -> None:
    config = _example()
    del config["amp"]
    with pytest.raises(MetadataError, match="amp"):
        text_reader(config)
    config = _example()
    del config["v_unit"]
    with pytest.raises(MetadataError, match="v_unit"):
        text_reader(config)


def test_text_variants(tmp_path: Path) -> None:
    three = tmp_path / "three.csv"
    three.write_text("t,v,i\n0,-70,0\n0.1,-69,0.2\n0.2,-68,0.2\n")
    (trace,) = read_file(text_units(three))
    assert trace["dt"] == pytest.approx(0.1)
    np.testing.assert_array_equal(trace["current"], [0, 0.2, 0.2])
    uneven = tmp_path / "uneven.dat"
    uneven.write_text("0 -70\n0.1 -70\n0.5 -70\n")
    with pytest.raises(ReaderError, match="uniformly"):
        read_file(text_units(uneven, ton=0, toff=1, amp=0))
    single = tmp_path / "single.csv"
    single.write_text("-70\n-69\n-68\n")
    with pytest.raises(MetadataError, match="dt"):
        read_file(text_units(single, ton=0, toff=1, amp=0))
    (trace,) = read_file(text_units(single, ton=0, toff=0.1, amp=1, dt=0.05))
    np.testing.assert_array_equal(trace["current"], [1, 1, 0])


def test_atf_voltage_clamp_file_is_refused_unless_channels_are_forced() -> None:
    path = str(shared_path("formats", "atf", "18702001-step.atf"))
    with pytest.raises(NotARecordingError, match="voltage clamp: 3 sweeps") as info:
        atf_reader({"filepath": path})
    assert "18702001-step.atf" in str(info.value)
    traces = atf_reader({"filepath": path, "v_channel": "IN 1", "i_channel": "IN 0"})
    assert len(traces) == 3
    assert traces[0]["voltage"].size == 20000
    assert traces[0]["dt"] == pytest.approx(5e-5)
    assert traces[0]["t_unit"] == "s"
    assert traces[0]["i_unit"] == "pA"


def test_wcp_voltage_clamp_is_refused_with_what_the_file_is() -> None:
    # Vm is a clean -80/-20 mV command: the membrane current is the response
    path = str(shared_path("formats", "wcp", "myokit-wcp-file.wcp"))
    with pytest.raises(NotARecordingError) as info:
        wcp_reader({"filepath": path})
    assert info.value.kind == "voltage clamp"
    assert info.value.detail == "11 records of membrane current"


def test_wcp_records_pick_channels_by_unit() -> None:
    path = str(shared_path("formats", "wcp", "myokit-wcp-file.wcp"))
    traces = wcp_reader({"filepath": path, "v_channel": "Vm"})
    assert len(traces) == 11
    assert traces[0]["voltage"].size == 256
    assert (traces[0]["v_unit"], traces[0]["i_unit"]) == ("mV", "pA")
    assert traces[0]["dt"] == pytest.approx(1e-3, rel=1e-6)


def test_inspection_of_atf_and_wcp_lists_channels_by_kind() -> None:
    atf = inspect_file(str(shared_path("formats", "atf", "18702001-step.atf")))
    assert atf["n_sweeps"] == 3
    assert atf["sampling_rate"] == pytest.approx(20000.0)
    assert [c["kind"] for c in atf["channels"]] == ["current", "current"]
    wcp = inspect_file(str(shared_path("formats", "wcp", "myokit-wcp-file.wcp")))
    assert wcp["n_sweeps"] == 11
    assert {c["name"]: c["kind"] for c in wcp["channels"]} == {
        "Im": "current",
        "Vm": "voltage",
    }


def test_every_missing_text_metadata_key_is_named_at_once(tmp_path: Path) -> None:
    from efex_gui.core.errors import MissingMetadataError
    from efex_gui.core.readers.text import missing_text_metadata

    path = tmp_path / "v_only.csv"
    np.savetxt(path, np.full((50, 1), -70.0))
    with pytest.raises(MissingMetadataError) as info:
        read_file({"filepath": str(path)})
    assert info.value.missing == [
        "v_unit", "t_unit", "dt", "i_unit", "ton", "toff", "amp"
    ]  # fmt: skip
    assert missing_text_metadata({"columns": ["t", "v", "i"]}, 3) == [
        "v_unit", "t_unit", "i_unit"
    ]  # fmt: skip
    assert missing_text_metadata({}, 5) == ["columns", "v_unit", "t_unit"]
