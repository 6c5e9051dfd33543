"""Exclusions: keys, the immutable document, JSON, applying them to files_metadata."""

from __future__ import annotations

import pickle

import pytest

from efex_gui.core.errors import MetadataError
from efex_gui.core.importing.file_names import entry_file
from efex_gui.core.session.exclusions import (
    ExclusionKey,
    Exclusions,
    TraceFilter,
    apply_exclusions,
    include,
)


def _files_metadata() -> dict:
    return {
        "c1": {
            "IDRest": [
                {"i_file": "c1/i_1.ibw", "v_file": "c1/v_1.ibw", "ljp": 14},
                {"i_file": "c1/i_2.ibw", "v_file": "c1/v_2.ibw", "ljp": 14},
            ],
            "IV": [{"filepath": "c1.nwb"}],
        },
        "c2": {"IDRest": [{"filepath": "c2.nwb"}]},
    }


def test_key_levels_cover_what_is_below() -> None:
    cell = ExclusionKey("c1")
    protocol = ExclusionKey("c1", "IDRest")
    entry = ExclusionKey("c1", "IDRest", "c1/v_1.ibw")
    trace = ExclusionKey("c1", "IDRest", "c1/v_1.ibw", 3)
    assert cell.covers(trace)
    assert protocol.covers(entry)
    assert entry.covers(trace)
    assert not trace.covers(entry)
    assert not ExclusionKey("c2").covers(entry)
    assert trace.ancestors() == [cell, protocol, entry]
    assert trace.as_list() == ["c1", "IDRest", "c1/v_1.ibw", 3]


def test_key_cannot_skip_a_level() -> None:
    with pytest.raises(MetadataError, match="skips a level"):
        ExclusionKey("c1", None, "file.ibw")


def test_exclusions_are_values_with_reasons() -> None:
    empty = Exclusions()
    one = empty.with_excluded([ExclusionKey("c1", "IDRest")], "noisy")
    assert len(empty) == 0
    assert len(one) == 1
    sweep = ExclusionKey("c1", "IDRest", "c1/v_1.ibw")
    assert one.is_excluded(sweep)
    assert one.reason(sweep) == "noisy"
    assert one.covering(sweep) == ExclusionKey("c1", "IDRest")
    assert not one.is_excluded(ExclusionKey("c1", "IV", "c1.nwb"))
    assert one.without([ExclusionKey("c1", "IDRest")]) == empty
    assert one == Exclusions({ExclusionKey("c1", "IDRest"): "noisy"})


def test_json_round_trip_and_validation() -> None:
    exclusions = Exclusions(
        {
            ExclusionKey("c1"): "",
            ExclusionKey("c2", "IDRest", "c2.nwb", 4): "bridge drift",
        }
    )
    data = exclusions.to_json()
    assert data[1] == {"key": ["c2", "IDRest", "c2.nwb", 4], "reason": "bridge drift"}
    assert Exclusions.from_json(data) == exclusions
    with pytest.raises(MetadataError, match="#0"):
        Exclusions.from_json([{"key": []}])
    with pytest.raises(MetadataError, match="wrong types"):
        Exclusions.from_json([{"key": ["c1", "IDRest", "f", "3"]}])


def test_entry_file_names_the_entry() -> None:
    assert entry_file({"filepath": "a.nwb", "v_file": "b"}) == "a.nwb"
    assert entry_file({"v_file": "v.ibw", "i_file": "i.ibw"}) == "v.ibw"
    with pytest.raises(MetadataError, match="filepath"):
        entry_file({"i_unit": "pA"})


def test_apply_exclusions_drops_entries_protocols_and_cells() -> None:
    fm = _files_metadata()
    exclusions = Exclusions(
        {
            ExclusionKey("c1", "IDRest", "c1/v_2.ibw"): "",
            ExclusionKey("c2"): "",
            ExclusionKey("c1", "IV", "c1.nwb", 2): "",
        }
    )
    kept, partial = apply_exclusions(fm, exclusions)
    assert list(kept) == ["c1"]
    assert [e["v_file"] for e in kept["c1"]["IDRest"]] == ["c1/v_1.ibw"]
    assert kept["c1"]["IV"] == fm["c1"]["IV"]
    assert partial == {("c1", "IV", "c1.nwb"): {2}}
    kept["c1"]["IDRest"][0]["ljp"] = 0
    assert fm["c1"]["IDRest"][0]["ljp"] == 14, "the input must not be mutated"
    assert len(fm["c1"]["IDRest"]) == 2


def test_apply_no_exclusions_keeps_everything() -> None:
    fm = _files_metadata()
    kept, partial = apply_exclusions(fm, Exclusions())
    assert kept == fm
    assert partial == {}


def test_trace_filter_drops_excluded_traces(monkeypatch: pytest.MonkeyPatch) -> None:
    readers = pytest.importorskip("efex_gui.core.readers")
    calls = []

    def fake_read_file(config: dict) -> list[dict]:
        calls.append(config)
        return [{"id": f"t{i}"} for i in range(4)]

    monkeypatch.setattr(readers, "read_file", fake_read_file)
    reader = TraceFilter({("/data/c1.nwb", "IV"): {1, 3}})
    kept = reader({"filepath": "/data/c1.nwb", "protocol_name": "IV"})
    assert [t["id"] for t in kept] == ["t0", "t2"]
    other = reader({"filepath": "/data/c1.nwb", "protocol_name": "IDRest"})
    assert len(other) == 4
    clone = pickle.loads(pickle.dumps(reader))
    assert clone == reader


def _children(key: ExclusionKey) -> list[ExclusionKey]:
    tree = {
        ("c1",): ["IDRest", "IV"],
        ("c1", "IDRest"): ["f1", "f2", "f3"],
        ("c1", "IV"): ["nwb"],
        ("c1", "IV", "nwb"): [0, 1, 2],
    }
    parts = tuple(key.as_list())
    return [ExclusionKey(*parts, child) for child in tree.get(parts, [])]


def test_include_splits_an_excluded_parent() -> None:
    exclusions = Exclusions({ExclusionKey("c1"): "bad cell"})
    result = include(exclusions, ExclusionKey("c1", "IDRest", "f2"), _children)
    assert result == Exclusions(
        {
            ExclusionKey("c1", "IV"): "bad cell",
            ExclusionKey("c1", "IDRest", "f1"): "bad cell",
            ExclusionKey("c1", "IDRest", "f3"): "bad cell",
        }
    )
    trace = include(result, ExclusionKey("c1", "IV", "nwb", 1), _children)
    assert not trace.is_excluded(ExclusionKey("c1", "IV", "nwb", 1))
    assert trace.is_excluded(ExclusionKey("c1", "IV", "nwb", 0))
    assert trace.is_excluded(ExclusionKey("c1", "IV", "nwb", 2))


def test_include_removes_exclusions_below() -> None:
    exclusions = Exclusions(
        {
            ExclusionKey("c1", "IDRest", "f1"): "a",
            ExclusionKey("c1", "IDRest", "f3"): "b",
            ExclusionKey("c1", "IV"): "c",
        }
    )
    result = include(exclusions, ExclusionKey("c1", "IDRest"), _children)
    assert result == Exclusions({ExclusionKey("c1", "IV"): "c"})
    assert include(result, ExclusionKey("c2"), _children) == result


def test_a_trace_excluded_in_one_cell_stays_in_another_reading_the_file(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Two cells of one file (HEKA groups, ABF channels) under the same protocol."""
    from efex_gui.core import readers

    def fake_read_file(config: dict) -> list[dict]:
        return [{"id": f"t{i}"} for i in range(4)]

    monkeypatch.setattr(readers, "read_file", fake_read_file)
    config = {"filepath": "/data/two_cells.dat", "protocol_name": "IV"}
    reader = TraceFilter({("c1", "/data/two_cells.dat", "IV"): {1}})
    assert [t["id"] for t in reader.for_cell("c1")(config)] == ["t0", "t2", "t3"]
    assert len(reader.for_cell("c2")(config)) == 4
    assert reader.for_cell("c2").source_indices(config, 4) == [0, 1, 2, 3]
    assert reader.for_cell("c1").source_indices(config, 3) == [0, 2, 3]
    # a key without a cell (a version 1 recipe's) drops in every cell
    every = TraceFilter({("/data/two_cells.dat", "IV"): {0}}).for_cell("c2")
    assert [t["id"] for t in every(config)] == ["t1", "t2", "t3"]
    scoped = reader.for_cell("c1")
    assert pickle.loads(pickle.dumps(scoped)) == scoped != reader


def test_a_sweep_excluded_in_one_cell_of_a_heka_bundle_is_kept_in_the_others() -> None:
    """The shared bundle: eight cells (amplifier channels) read from one file."""
    from efex_gui.core.extraction.read_and_extract import read_recordings
    from efex_gui.core.session.document import Session
    from efex_gui.core.session.folder_import import import_folder
    from tests.conftest import shared_path

    folder = shared_path("formats", "heka")
    found = import_folder(folder)
    session = Session(files_metadata=found.files_metadata, data_root=folder)
    session.ecode_overrides = dict(found.ecode_overrides)  # "Sti 7S-Cc": Step
    first, second = list(found.files_metadata)[:2]
    (protocol,) = found.files_metadata[first]
    file = entry_file(found.files_metadata[first][protocol][0])
    session.exclusions = session.exclusions.with_excluded(
        [ExclusionKey(first, protocol, file, 3)]
    )
    kwargs = session.to_extract_kwargs()
    cells = {
        cell.name: len(cell.recordings)
        for cell in read_recordings(
            kwargs["files_metadata"], kwargs["recording_reader"]
        )
    }
    assert cells[second] > 3
    assert cells[first] == cells[second] - 1
    assert all(cells[name] == cells[second] for name in cells if name != first)
