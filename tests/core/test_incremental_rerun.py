"""The GUI's rerun after an exclusion: same numbers as a full run, touched part only."""

from __future__ import annotations

import copy
import json
from typing import TYPE_CHECKING, Any

import pytest

from efex_gui.core.extraction import regrouping
from efex_gui.core.extraction.incremental import IncrementalExtractor
from efex_gui.core.extraction.pipeline import extract_efeatures
from efex_gui.core.importing.file_names import entry_file
from efex_gui.core.session.document import ExtractionSettings, Session
from efex_gui.core.session.exclusions import ExclusionKey
from tests.conftest import held_bytes

if TYPE_CHECKING:
    from pathlib import Path


@pytest.fixture
def session(demo_dir: Path) -> Session:
    from efex_gui.core.synthetic.demo import DEMO_TARGETS

    files_metadata = json.loads(
        (demo_dir / "files_metadata.json").read_text(encoding="utf-8")
    )
    return Session(
        files_metadata=files_metadata,
        targets=list(copy.deepcopy(DEMO_TARGETS)),
        settings=ExtractionSettings(protocols_rheobase=["IDthresh", "IDRest"]),
    )


def _outputs_text(outputs: Any) -> list[str]:
    return [json.dumps(o, sort_keys=True, default=repr) for o in outputs]


def _assert_as_full_run(result: Any, session: Session) -> None:
    full = extract_efeatures(None, **session.to_extract_kwargs())
    mine = (result.features, result.protocol_definitions, result.currents)
    assert _outputs_text(mine) == _outputs_text(full)


def _key(result: Any, session: Session, recording: Any) -> ExclusionKey:
    ref = result.sweep_ref(recording)
    config = session.files_metadata[ref.cell][ref.protocol][ref.entry]
    return ExclusionKey(ref.cell, ref.protocol, entry_file(config), ref.index)


def _above_rheobase_sweep(result: Any, cell: str, protocol: str) -> Any:
    """A sweep of ``cell`` in a window of ``protocol``, not its rheobase sweep."""
    held = [
        r
        for p in result.protocols
        if p.name == protocol
        for r in p.recordings
        if result.sweep_ref(r).cell == cell
    ]
    return max(held, key=lambda r: r.amp_rel)


def _windows_holding(result: Any, recording: Any) -> set[str]:
    """The stimulus names of the result's windows that hold ``recording``."""
    return {
        p.stimulus_name
        for p in result.protocols
        if any(r is recording for r in p.recordings)
    }


def test_each_exclusion_rerun_equals_a_full_extraction(session: Session) -> None:
    extractor = IncrementalExtractor()
    first = extractor.run(session)
    sweep = _above_rheobase_sweep(first, "SimCell1", "IDRest")
    edits = [
        session.exclusions.with_excluded([_key(first, session, sweep)]),
        session.exclusions.with_excluded(
            [_key(first, session, sweep), ExclusionKey("SimCell2", "IV")]
        ),
        session.exclusions,  # both taken back: the first run's numbers again
    ]
    for exclusions in edits:
        session.exclusions = exclusions
        result = extractor.run(session, check_files=False)
        _assert_as_full_run(result, session)
        assert result.stats.efel_calls == 0
    first_outputs = (first.features, first.protocol_definitions, first.currents)
    last_outputs = (result.features, result.protocol_definitions, result.currents)
    assert _outputs_text(last_outputs) == _outputs_text(first_outputs)


def test_an_exclusion_recomputes_only_the_windows_that_held_the_sweep(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    extractor = IncrementalExtractor()
    first = extractor.run(session)
    sweep = _above_rheobase_sweep(first, "SimCell1", "IDRest")
    held = _windows_holding(first, sweep)
    assert held
    assert len(held) < len(first.protocols)
    rebuilt: list[str] = []
    real = regrouping.protocol_outputs

    def counting(protocol: Any, *args: Any) -> Any:
        rebuilt.append(protocol.stimulus_name)
        return real(protocol, *args)

    monkeypatch.setattr(regrouping, "protocol_outputs", counting)
    session.exclusions = session.exclusions.with_excluded([_key(first, session, sweep)])
    second = extractor.run(session)
    assert second.cell("SimCell1").rheobase == first.cell("SimCell1").rheobase
    assert sorted(rebuilt) == sorted(held)
    assert extractor.plans.planned == ["SimCell1"]
    assert extractor.grouping.matched_cells == 1
    # the untouched cell is the very same object; the other windows too
    assert second.cell("SimCell2") is first.cell("SimCell2")
    kept = [p for p in second.protocols if p.stimulus_name not in held]
    assert all(any(p is q for q in first.protocols) for p in kept)
    _assert_as_full_run(second, session)


def test_the_cells_kept_for_the_next_run_hold_little_of_their_own(
    session: Session,
) -> None:
    """Kept per cell of the last run: the copies' refs and sources, 8 B a sweep each
    (two dicts by id(), with an int key per sweep, took 0.2 kB a sweep)."""
    extractor = IncrementalExtractor()
    result = extractor.run(session)
    sweeps = sum(len(cell.recordings) for cell in result.cells)
    done = extractor._done
    assert len(done) == len(result.cells)
    own = held_bytes(done, result, extractor._entries)
    assert own / sweeps < 120  # with the run's targets text, kept once


def test_a_file_changed_on_disk_is_read_again_when_files_are_checked(
    session: Session, tmp_path: Path
) -> None:
    import os
    import shutil

    entry = session.files_metadata["SimCell2"]["IV"][0]
    copied = tmp_path / os.path.basename(entry["filepath"])
    shutil.copy(session.resolve(entry["filepath"]), copied)
    entry["filepath"] = str(copied)
    extractor = IncrementalExtractor()
    first = extractor.run(session)
    stat = copied.stat()
    os.utime(copied, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    unchecked = extractor.run(session, check_files=False)
    assert unchecked.cell("SimCell2") is first.cell("SimCell2")
    checked = extractor.run(session)
    assert checked.cell("SimCell2") is not first.cell("SimCell2")
    assert checked.entries_read == 1
    _assert_as_full_run(checked, session)
    # no earlier copy is put back: equal sweeps by identity may hold new samples
    earlier = {id(r) for r in first.cell("SimCell2").recordings}
    assert not earlier & {id(r) for r in checked.cell("SimCell2").recordings}


def test_a_rebuilt_window_appends_only_the_touched_cells_recordings(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The untouched cells' values are added to a rebuilt window as they were
    gathered last time (at 44 cells a rebuilt window appended ~370 recordings ×
    37 targets again after each exclusion)."""
    from efex_gui.core.extraction.protocol import Protocol

    extractor = IncrementalExtractor()
    first = extractor.run(session)
    sweep = _above_rheobase_sweep(first, "SimCell1", "IDRest")
    held = _windows_holding(first, sweep)
    appended: list[Any] = []
    real = Protocol.append

    def counting(self: Protocol, recording: Any) -> None:
        appended.append(recording)
        real(self, recording)

    monkeypatch.setattr(Protocol, "append", counting)
    session.exclusions = session.exclusions.with_excluded([_key(first, session, sweep)])
    second = extractor.run(session)
    rebuilt = [p for p in second.protocols if p.stimulus_name in held]
    members = {second.sweep_ref(r).cell for p in rebuilt for r in p.recordings}
    assert "SimCell2" in members, "the rebuilt windows hold the untouched cell"
    assert {second.sweep_ref(r).cell for r in appended} <= {"SimCell1"}
    _assert_as_full_run(second, session)


def test_a_runs_copies_share_the_values_their_sweeps_have_in_common(
    session: Session,
) -> None:
    result = IncrementalExtractor().run(session)
    recordings = [r for cell in result.cells for r in cell.recordings]
    for name in ("ton", "toff", "tend", "dt", "protocol_name"):
        values = [getattr(r, name) for r in recordings]
        distinct = {(type(v), v) for v in values}
        assert len({id(v) for v in values}) == len(distinct) < len(values), name
    for key in {k for r in recordings for k in r.config_data}:
        values = [r.config_data.get(key) for r in recordings]
        short = [v for v in values if not isinstance(v, str) or len(v) <= 40]
        if short and len({id(v) for v in short}) > 1:
            assert len({id(v) for v in short}) == len({(type(v), v) for v in short})


def test_the_grouping_keeps_no_copy_of_the_windows_values(session: Session) -> None:
    """A rebuilt window takes an unchanged cell's part of the last window: the
    grouping cache keeps where each cell's part is, not its values again (a copy
    per cell and window took 0.38 kB a sweep at 8 SSCx cells)."""
    extractor = IncrementalExtractor()
    result = extractor.run(session)
    sweeps = sum(len(cell.recordings) for cell in result.cells)
    grouping = extractor.grouping
    # beside the result, the templates and each cell's recordings by window
    own = held_bytes(grouping, result, grouping._template, grouping._matches)
    assert own / sweeps < 110  # 147 with a copy (2 cells: the windows' own cost)


def test_a_results_sweep_references_take_no_int_per_sweep(session: Session) -> None:
    result = IncrementalExtractor().run(session)
    recordings = [r for cell in result.cells for r in cell.recordings]
    assert all(result.sweep_ref(r) is result.refs[r] for r in recordings)
    assert result.sweep_ref(object()) is None
    assert result.sweep_ref({}) is None  # (not hashable: not a recording of it)
    per_sweep = held_bytes(result.refs, recordings) / len(recordings)
    assert per_sweep < 116  # a SweepRef and a dict entry; keyed by id(): 132 B


def test_an_exclusion_in_one_of_two_cells_on_one_file_is_that_cells_only(
    session: Session,
) -> None:
    """The GUI's run, the headless run and the sidecar's recipe agree."""
    from efex_gui.core.export.recipe import build_recipe, recipe_kwargs

    first = next(iter(session.files_metadata))
    twin = f"{first}_twin"  # the same files, under another cell's name
    session.files_metadata[twin] = copy.deepcopy(session.files_metadata[first])
    result = IncrementalExtractor().run(session)
    sweep = _above_rheobase_sweep(result, first, "IDRest")
    session.exclusions = session.exclusions.with_excluded(
        [_key(result, session, sweep)]
    )
    rerun = IncrementalExtractor().run(session)
    kept = {
        (rerun.sweep_ref(r).cell, rerun.sweep_ref(r).index)
        for c in rerun.cells
        for r in c.recordings
        if rerun.sweep_ref(r).protocol == "IDRest"
    }
    index = result.sweep_ref(sweep).index
    assert (first, index) not in kept
    assert (twin, index) in kept
    _assert_as_full_run(rerun, session)
    kwargs = session.to_extract_kwargs()
    reader = kwargs["recording_reader"]
    recipe = build_recipe(kwargs["files_metadata"], kwargs, {}, reader)
    assert [row[-1] for row in recipe["dropped_traces"]] == [first]
    again, _ = recipe_kwargs({"recipe": recipe})
    assert again["recording_reader"] == reader
    rows = [row[:3] for row in recipe["dropped_traces"]]  # version 1: no cell
    version_1 = {**recipe, "version": 1, "dropped_traces": rows}
    older, _ = recipe_kwargs({"recipe": version_1})
    assert list(older["recording_reader"].excluded) == [k[1:] for k in reader.excluded]


@pytest.mark.parametrize(
    "row", [["a.nwb", "IDRest"], ["a.nwb", "IDRest", [1], "c1", "c2"], "a.nwb"]
)
def test_a_damaged_dropped_traces_row_of_a_recipe_is_named(row: Any) -> None:
    from efex_gui.core.errors import MetadataError
    from efex_gui.core.export.recipe import RECIPE_VERSION, recipe_kwargs

    recipe = {
        "version": RECIPE_VERSION,
        "data_root": "/data",
        "files_metadata": {},
        "dropped_traces": [["b.nwb", "IV", [0], "c1"], row],
    }
    with pytest.raises(MetadataError, match=r"recipe\.dropped_traces .* row 2"):
        recipe_kwargs({"recipe": recipe})
