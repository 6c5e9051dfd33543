"""The lazy dataset listing and the loading of one entry into Recordings."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pytest

from efex_gui.core.session.dataset import (
    Dataset,
    EntryKey,
    EntryState,
    SweepKey,
    ecode_name,
    ecode_names,
    ecode_table,
    file_protocols,
    file_role,
    load_entry,
    resolve_ecode,
)
from efex_gui.core.session.exclusions import ExclusionKey
from tests.conftest import shared_path

if TYPE_CHECKING:
    from pathlib import Path

B6_CONFIG = {"i_unit": "pA", "v_unit": "mV", "t_unit": "s", "dt": 0.00025, "ljp": 14.0}


def _fm() -> dict:
    return {
        "cellA": {
            "IDRest": [
                {"i_file": "A/i_1.ibw", "v_file": "A/v_1.ibw"},
                {"i_file": "A/i_2.ibw", "v_file": "A/v_2.ibw"},
            ],
        },
        "cellB": {
            "Step": [{"filepath": "/abs/cellB.nwb"}],
            "IV": [{"filepath": "b.nwb"}],
        },
    }


def test_listing_needs_no_file(tmp_path: Path) -> None:
    """None of the files exists: listing must not try to open them."""
    dataset = Dataset(_fm(), tmp_path)
    assert dataset.cells() == ["cellA", "cellB"]
    assert dataset.protocols("cellB") == ["Step", "IV"]
    assert dataset.sweeps("cellA", "IDRest") == [
        SweepKey("cellA", "IDRest", 0, None),
        SweepKey("cellA", "IDRest", 1, None),
    ]
    assert len(dataset.all_sweeps()) == 4
    assert len(dataset.entry_keys()) == 4
    assert not dataset.is_loaded(EntryKey("cellA", "IDRest", 0))


def test_loaded_entries_expand_into_traces(tmp_path: Path) -> None:
    dataset = Dataset(_fm(), tmp_path)
    key = EntryKey("cellB", "Step", 0)
    dataset.set_loaded(key, ["ic__Step__1", "ic__Step__2", "ic__Step__3"], {2: "bad"})
    sweeps = dataset.sweeps("cellB", "Step")
    assert [s.index for s in sweeps] == [0, 1, 2]
    assert dataset.state(key).trace_errors == {2: "bad"}
    assert dataset.exclusion_key(sweeps[1]) == ExclusionKey(
        "cellB", "Step", "/abs/cellB.nwb", 1
    )
    single = EntryKey("cellA", "IDRest", 0)
    dataset.set_loaded(single, ["v_1"])
    (sweep,) = [s for s in dataset.sweeps("cellA", "IDRest") if s.entry == 0]
    assert dataset.exclusion_key(sweep) == ExclusionKey("cellA", "IDRest", "A/v_1.ibw")
    dataset.set_failed(key, "truncated")
    assert dataset.sweeps("cellB", "Step") == [SweepKey("cellB", "Step", 0, None)]
    assert dataset.state(key).error == "truncated"
    assert dataset.is_loaded(key)
    dataset.forget(key)
    assert not dataset.is_loaded(key)


def test_entries_read_without_errors_share_one_empty_error_table(
    tmp_path: Path,
) -> None:
    # a session holds one state per entry read: no empty dict of its own each
    dataset = Dataset(_fm(), tmp_path)
    first, second = EntryKey("cellA", "IDRest", 0), EntryKey("cellA", "IDRest", 1)
    dataset.set_loaded(first, ["v_1"])
    dataset.set_loaded(second, ["v_2"], {})
    assert dataset.state(first).trace_errors is dataset.state(second).trace_errors
    assert dataset.state(first).trace_names == ("v_1",)
    errors = {0: "bad"}
    dataset.set_loaded(second, ["v_2"], errors)
    errors.clear()  # the state keeps its own copy
    assert dataset.state(second).trace_errors == {0: "bad"}
    assert not dataset.state(first).trace_errors


def test_entries_read_with_default_trace_names_cost_a_list_slot_each() -> None:
    # the GUI reads every entry of every cell: most hold one trace named "sweep 0"
    # (Igor waves), whose state tells nothing but that; 440 cells hold ~0.3 M
    from tests.conftest import held_bytes

    n = 200
    metadata = {"c": {"Step": [{"filepath": f"f{i}.ibw"} for i in range(n)]}}
    dataset = Dataset(metadata)
    keys = [EntryKey("c", "Step", i) for i in range(n)]
    for key in keys[: n // 2]:
        dataset.set_loaded(key, ["sweep 0"])
    for key in keys[n // 2 :]:
        dataset.set_loaded(key, ["sweep 0", "sweep 1"])
    assert held_bytes(dataset, metadata, keys) / n < 40
    assert dataset.state(keys[0]) is dataset.state(keys[1])
    assert dataset.state(keys[0]).trace_names == ("sweep 0",)
    assert dataset.state(keys[-1]).trace_names == ("sweep 0", "sweep 1")
    assert dataset.state(keys[-1]).n_traces == 2
    # a name of its own, or an error, gets a state of its own
    dataset.set_loaded(keys[0], ["v_1"])
    dataset.set_loaded(keys[1], ["sweep 0"], {0: "bad"})
    assert dataset.state(keys[0]).trace_names == ("v_1",)
    assert dataset.state(keys[1]).trace_errors == {0: "bad"}
    assert dataset.state(keys[2]).trace_errors == {}
    dataset.forget(keys[2])
    assert not dataset.is_loaded(keys[2])
    assert dataset.is_loaded(keys[3])
    assert dataset.state(EntryKey("c", "Step", n + 5)) == EntryState()
    assert dataset.state(EntryKey("other", "Step", 0)) == EntryState()


def test_child_keys_walk_one_level_down(tmp_path: Path) -> None:
    dataset = Dataset(_fm(), tmp_path)
    assert dataset.child_keys(ExclusionKey("cellB")) == [
        ExclusionKey("cellB", "Step"),
        ExclusionKey("cellB", "IV"),
    ]
    assert dataset.child_keys(ExclusionKey("cellA", "IDRest")) == [
        ExclusionKey("cellA", "IDRest", "A/v_1.ibw"),
        ExclusionKey("cellA", "IDRest", "A/v_2.ibw"),
    ]
    entry = ExclusionKey("cellB", "Step", "/abs/cellB.nwb")
    assert dataset.child_keys(entry) == []
    dataset.set_loaded(EntryKey("cellB", "Step", 0), ["a", "b"])
    assert dataset.child_keys(entry) == [
        ExclusionKey("cellB", "Step", "/abs/cellB.nwb", 0),
        ExclusionKey("cellB", "Step", "/abs/cellB.nwb", 1),
    ]


def test_absolute_config_resolves_against_the_data_root(tmp_path: Path) -> None:
    fm = _fm()
    dataset = Dataset(fm, tmp_path)
    config = dataset.absolute_config(EntryKey("cellA", "IDRest", 1))
    assert config["v_file"] == str(tmp_path / "A" / "v_2.ibw")
    assert config["i_file"] == str(tmp_path / "A" / "i_2.ibw")
    assert (
        dataset.absolute_config(EntryKey("cellB", "Step", 0))["filepath"]
        == "/abs/cellB.nwb"
    )
    assert dataset.config(EntryKey("cellA", "IDRest", 1))["v_file"] == "A/v_2.ibw"
    dataset.config(EntryKey("cellA", "IDRest", 1))["ljp"] = 3
    assert fm["cellA"]["IDRest"][1]["ljp"] == 3, "the session's dict is shared"


def test_missing_and_corrupt_files_become_errors(tmp_path: Path) -> None:
    (tmp_path / "A").mkdir()
    (tmp_path / "A" / "v_1.ibw").write_bytes(b"\x00garbage" * 10)
    (tmp_path / "A" / "i_1.ibw").write_bytes(b"\x00garbage" * 10)
    dataset = Dataset(_fm(), tmp_path)
    corrupt = load_entry(dataset, EntryKey("cellA", "IDRest", 0))
    assert corrupt.error
    assert corrupt.recordings == []
    missing = load_entry(dataset, EntryKey("cellA", "IDRest", 1))
    assert (missing.error and "v_2.ibw" in missing.error) or "i_2.ibw" in missing.error


def test_unknown_protocol_of_a_missing_file_is_an_error_row(tmp_path: Path) -> None:
    # the file is the first thing to fix; the eCode is guessed once it reads
    dataset = Dataset({"c": {"TestPulse": [{"filepath": "x.nwb"}]}}, tmp_path)
    loaded = load_entry(dataset, EntryKey("c", "TestPulse", 0))
    assert loaded.error
    assert "x.nwb" in loaded.error


def test_ecode_overrides() -> None:
    assert resolve_ecode("IDRest").__name__ == "Step"
    assert resolve_ecode("Chirp", {"Chirp": "Ramp"}).__name__ == "Ramp"
    assert ecode_name("TestPulse") is None
    assert ecode_name("TestPulse", {"TestPulse": "Step"}) == "Step"


def test_load_b6_sweep_gives_the_spec_recording() -> None:
    root = shared_path("bluepyefe-exp-data")
    fm = {
        "MouseNeuron1": {
            "IDRest": [
                {
                    "i_file": "B6/B6_Ch0_IDRest_181.ibw",
                    "v_file": "B6/B6_Ch3_IDRest_181.ibw",
                    **B6_CONFIG,
                },
            ]
        }
    }
    loaded = load_entry(Dataset(fm, root), EntryKey("MouseNeuron1", "IDRest", 0))
    assert loaded.error is None
    assert loaded.trace_errors == {}
    (recording,) = loaded.recordings
    # counted by the reader (a worker thread in the GUI), not when first shown
    assert not recording.spikecount_pending
    # spec §10.2: sweep 181 amp 0.11874 nA, hypamp -0.0125 nA, 26 spikes
    assert recording.amp == pytest.approx(0.11874, abs=1e-5)
    assert recording.hypamp == pytest.approx(-0.0125, abs=1e-6)
    assert recording.spikecount == 26


def test_load_nwb_entry_gives_sixteen_traces() -> None:
    root = shared_path("bluepyefe-exp-data")
    fm = {
        "hippocampus_cell": {
            "Step": [
                {
                    "filepath": "hippocampus-portal/99111002.nwb",
                    "i_unit": "A",
                    "v_unit": "V",
                    "t_unit": "s",
                    "ljp": 0.0,
                }
            ]
        }
    }
    dataset = Dataset(fm, root)
    loaded = load_entry(dataset, EntryKey("hippocampus_cell", "Step", 0))
    assert loaded.error is None
    assert len(loaded.recordings) == 16
    assert loaded.trace_names[0] == "ic__Step__1"
    # spec §10.3 RecordingTestNWB: recordings[1] has 2 spikes
    assert loaded.recordings[1].spikecount == 2


def test_file_role_and_protocols_from_headers() -> None:
    cell = shared_path("sscx", "input-traces", "C080501B2-SR-C1")
    # this cell's rig recorded the voltage on ch0 (the other cells: on ch1)
    assert file_role(str(cell / "exp_IDrest_ch0_1000.ibw")) == "voltage"
    assert file_role(str(cell / "exp_IDrest_ch1_1000.ibw")) == "current"
    nwb = shared_path("bluepyefe-exp-data", "hippocampus-portal", "99111002.nwb")
    assert file_protocols(str(nwb)) == ["Step"]


def test_every_ecode_name_resolves_to_its_class() -> None:
    names = ecode_names()
    assert "Step" in names
    assert "SAHP" in names
    assert "Ramp" in names
    for name in names:
        assert resolve_ecode("AnyProtocol", {"AnyProtocol": name}).__name__ == name
    rows = ecode_table(["IDRest", "APThreshold", "TestPulse"], {"TestPulse": "Step"})
    assert rows == [
        ("IDRest", "idrest", "Step"),
        ("APThreshold", "apthresh", "Ramp"),
        ("TestPulse", "step", "Step"),
    ]


def test_read_only_entries_share_repeated_values_but_not_paths() -> None:
    text = json.dumps(
        {
            cell: {
                "IDRest": [
                    {"i_file": f"{cell}/i_{n}.ibw", "v_file": f"{cell}/v_{n}.ibw"}
                    | {"i_unit": "pA", "ljp": 14.0, "ordinal": str(n)}
                    for n in (1, 2)
                ]
            }
            for cell in ("A", "B")
        }
    )
    metadata = json.loads(text)  # a JSON file: each value its own object
    same_path = json.loads(text)["A"]["IDRest"][0]["i_file"]
    assert metadata["A"]["IDRest"][0]["ljp"] is not metadata["B"]["IDRest"][0]["ljp"]
    Dataset(metadata).make_read_only()
    first, second = metadata["A"]["IDRest"][0], metadata["B"]["IDRest"][0]
    assert first == {
        "i_file": "A/i_1.ibw",
        "v_file": "A/v_1.ibw",
        "i_unit": "pA",
        "ljp": 14.0,
        "ordinal": "1",
    }
    assert first["ljp"] is second["ljp"]
    assert first["i_unit"] is second["i_unit"]
    assert first["ordinal"] is second["ordinal"]  # the same sweep number, two cells
    assert metadata["A"]["IDRest"][1]["ordinal"] == "2"
    # paths stay each entry's own: a table of them would cost an entry per file
    again = json.loads(text)
    again["B"]["IDRest"][0]["i_file"] = same_path  # equal to A's first path
    Dataset(again).make_read_only()
    assert again["B"]["IDRest"][0]["i_file"] is same_path
    assert again["A"]["IDRest"][0]["i_file"] is not same_path
