"""The browser keeps the cells not in use frozen (issue 14, memory flat with cells).

With a bound of one sweep, every cell but the last used is frozen; the tree, the
rheobases, the QC flags and the extraction must be those of a browser that keeps
every Recording as an object, and the extraction must still read no file again.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from efex_gui.app import browsed_recordings
from efex_gui.app.controller import SessionController
from tests.gui.extraction_helpers import (
    assert_same_files,
    headless_export,
    run_and_wait,
)
from tests.gui.helpers import load_everything

if TYPE_CHECKING:
    from pathlib import Path

    from efex_gui.app.extraction_controller import ExtractionController


def _read_demo(qtbot: Any, controller: SessionController, demo_dir: Path) -> None:
    """Open the demo's config and read every entry."""
    controller.open_json(demo_dir / "config.json")
    load_everything(qtbot, controller)


def _browse(qtbot: Any, controller: SessionController, demo_dir: Path) -> Any:
    """Open and read the demo; return what the browser shows of it."""
    _read_demo(qtbot, controller, demo_dir)
    store = controller.store
    sweeps = controller.dataset.all_sweeps()
    states = [r.__getstate__() for _s, r in store.read_recordings()]
    summaries = [controller.summary(s) for s in sweeps]
    qc = [store.qc_results(s) for s in sweeps]
    return dict(store.rheobases), dict(store.qc), summaries, qc, states


def test_frozen_cells_show_what_live_ones_do(
    qtbot: Any,
    controller: SessionController,
    demo_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    live = _browse(qtbot, controller, demo_dir)
    assert len(controller.store._recordings.snapshot()[1]) == 0, "nothing frozen"
    monkeypatch.setattr(browsed_recordings, "LIVE_SWEEPS", 1)
    frozen_controller = SessionController()
    try:
        frozen = _browse(qtbot, frozen_controller, demo_dir)
        store = frozen_controller.store._recordings
        assert store.cells()
        assert len(store.snapshot()[1]) == len(store.cells()) - 1
        assert store.live_sweeps < sum(
            1 for _ in frozen_controller.dataset.all_sweeps()
        )
    finally:
        assert frozen_controller.shutdown()
    assert live[0]
    assert all(v is not None for v in live[0].values())
    assert all(live[3]), "every sweep read has its QC results"
    for shown_live, shown_frozen in zip(live, frozen, strict=True):
        assert shown_frozen == shown_live


@pytest.mark.usefixtures("frozen")
def test_an_exclusion_reaches_a_frozen_cell(
    qtbot: Any, controller: SessionController, demo_dir: Path
) -> None:
    from efex_gui.core.session.exclusions import ExclusionKey

    _read_demo(qtbot, controller, demo_dir)
    store = controller.store
    frozen_cell = next(iter(store._recordings.snapshot()[1]))
    sweep = controller.dataset.sweeps(frozen_cell, "IDRest")[0]
    before = store.rheobases[frozen_cell]
    assert before is not None
    assert controller.summary(sweep).amp_rel is not None
    other = next(c for c in controller.dataset.cells() if c != frozen_cell)
    controller.summary(controller.dataset.sweeps(other, "IDRest")[0])  # freezes it
    with qtbot.waitSignal(controller.rheobase_changed):
        controller.set_excluded([ExclusionKey(frozen_cell)], True)
    assert store.rheobases[frozen_cell] is None
    assert controller.summary(sweep).amp_rel is None  # thawed with the new rheobase
    controller.undo_stack.undo()
    assert store.rheobases[frozen_cell] == before
    assert controller.summary(sweep).amp_rel is not None


@pytest.mark.parametrize("live_sweeps", [1, 10**6])
def test_the_extraction_borrows_every_cell_read_and_reads_no_file(
    qtbot: Any,
    controller: SessionController,
    demo_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    live_sweeps: int,
    extraction: ExtractionController,
) -> None:
    """Frozen or not; windows found by the consensus (the demo's config has none)."""
    monkeypatch.setattr(browsed_recordings, "LIVE_SWEEPS", live_sweeps)
    controller.open_json(demo_dir / "config.json")
    assert all(
        "ton" not in controller.dataset.config(k)
        for k in controller.dataset.entry_keys()
    )
    load_everything(qtbot, controller)
    frozen = controller.store._recordings.snapshot()[1]
    assert bool(frozen) == (live_sweeps == 1)
    result = run_and_wait(qtbot, extraction)
    assert result.entries_read == 0
    assert result.entries_cached == len(controller.dataset.entry_keys())
    extraction.export(tmp_path / "gui")
    headless_export(controller.session, tmp_path / "headless")
    assert_same_files(tmp_path / "gui", tmp_path / "headless")


@pytest.mark.usefixtures("frozen")
def test_a_rerun_keeps_the_copies_of_a_frozen_cell_not_changed(
    qtbot: Any,
    controller: SessionController,
    demo_dir: Path,
    extraction: ExtractionController,
) -> None:
    """The recordings are thawed anew for each run: copies are kept by value."""
    from efex_gui.core.session.dataset import SweepKey

    _read_demo(qtbot, controller, demo_dir)
    first = run_and_wait(qtbot, extraction)
    cell = first.cells[0]
    assert cell.name in controller.store._recordings.snapshot()[1], "frozen"
    excluded = cell.get_recordings_by_protocol_name("IDRest")[4]
    ref = first.sweep_ref(excluded)
    sweep = SweepKey(ref.cell, ref.protocol, ref.entry, ref.index)
    assert controller.recordings_for(sweep)  # drawn: read again, the cell thawed
    with qtbot.waitSignal(extraction.update_timed, timeout=60_000):
        controller.set_excluded([controller.exclusion_key(sweep)], True, "test")
    second = extraction.result
    assert (second.stats.computed, second.stats.efel_calls) == (0, 0)
    earlier = {id(r) for r in cell.recordings}
    (again,) = (c for c in second.cells if c.name == cell.name)
    kept = [id(r) for r in again.recordings if id(r) in earlier]
    entry = (ref.protocol, ref.entry)
    others = [
        id(r)
        for r in again.recordings
        if (second.sweep_ref(r).protocol, second.sweep_ref(r).entry) != entry
    ]
    assert len(others) > len(cell.recordings) // 2
    assert kept == others, "all but the sweeps of the entry drawn (read again)"


def test_the_result_leaves_the_sweeps_qc_to_the_browser(
    qtbot: Any,
    controller: SessionController,
    demo_dir: Path,
    extraction: ExtractionController,
) -> None:
    """The QC measures are the browser's: a result copy kept 0.12 kB a sweep of them."""
    _read_demo(qtbot, controller, demo_dir)
    result = run_and_wait(qtbot, extraction)
    copies = [r for cell in result.cells for r in cell.recordings]
    assert copies
    assert all(r.qc_measures is None and r.own_window is None for r in copies)
    browsed = [r for _s, r in controller.store.read_recordings()]
    assert all(r.qc_measures is not None for r in browsed)
    assert controller.store.qc_results(controller.dataset.all_sweeps()[0])


def test_an_entry_not_read_leaves_the_cells_in_use_alone() -> None:
    from efex_gui.core.session.dataset import EntryKey

    recordings = browsed_recordings.BrowsedRecordings(lambda cell, entries: None)
    key = EntryKey("Read", "IDRest", 0)
    recordings.set(key, [object()])
    assert recordings.get(EntryKey("Unread", "IDRest", 0)) is None
    assert recordings.cells() == ["Read"]
    assert recordings.get(key) is not None


def test_reading_in_the_background_leaves_the_cell_in_use_live(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A long first read froze the cell on screen (thawed again on each click)."""
    from efex_gui.core.session.dataset import EntryKey

    monkeypatch.setattr(browsed_recordings, "LIVE_SWEEPS", 2)
    recordings = browsed_recordings.BrowsedRecordings(lambda cell, entries: None)
    shown = EntryKey("Shown", "IDRest", 0)
    recordings.set(shown, [object(), object()])  # drawn: read for the person
    for cell in ("B", "C", "D"):
        recordings.set(EntryKey(cell, "IDRest", 0), [object(), object()], in_use=False)
    assert recordings.live_cell("Shown"), "the cell on screen was frozen"
    assert not recordings.live_cell("B")
    assert not recordings.live_cell("C")
    freezes = recordings.freezes
    assert recordings.get(shown) is not None
    assert recordings.freezes == freezes, "showing it again froze another cell"
    recordings.set(EntryKey("E", "IDRest", 0), [object(), object()], in_use=False)
    assert recordings.live_cell("Shown")
    assert not recordings.live_cell("D"), "the bound holds"


@pytest.mark.usefixtures("frozen")
def test_a_snapshot_for_the_extraction_lets_go_of_cells_frozen_since(
    qtbot: Any, controller: SessionController, demo_dir: Path
) -> None:
    """The snapshot held the cells live when made: frozen later, they stayed."""
    _read_demo(qtbot, controller, demo_dir)
    store = controller.store
    first = store.entries_read()
    assert store.entries_read() is first, "kept while nothing changes"
    frozen_cell = next(iter(store._recordings.snapshot()[1]))
    controller.summary(controller.dataset.sweeps(frozen_cell, "IDRest")[0])
    assert store.entries_read() is not first, "a cell was frozen meanwhile"


def test_the_consensus_given_to_an_entry_read_is_one_mapping_for_its_sweeps(
    qtbot: Any, controller: SessionController, demo_dir: Path
) -> None:
    _read_demo(qtbot, controller, demo_dir)
    for key in controller.dataset.entry_keys():
        recordings = [r for r in controller.store._recordings[key] if r is not None]
        assert len(recordings) > 1
        assert recordings[0].config_data["timing_source"] == "consensus"
        assert len({id(r.config_data) for r in recordings}) == 1


def _check_before_a_run(
    qtbot: Any, controller: SessionController, demo_dir: Path
) -> tuple[Any, list[Any], list[Any]]:
    """Read the demo; the target check and the rheobase rows before any run."""
    from efex_gui.app.extraction_review import (
        browsed_cells,
        review_rows,
        target_check,
    )

    _read_demo(qtbot, controller, demo_dir)
    session = controller.session
    check = target_check(session, browsed_cells(controller))
    rows = [
        (
            r.cell,
            r.computed,
            r.used,
            r.by_strategy,
            [(p.amp, p.spikecount, p.protocol) for p in r.points],
        )
        for r in review_rows(session, browsed_cells(controller))
    ]
    return check, rows, browsed_cells(controller)


def test_the_check_before_a_run_holds_no_frozen_cell_thawed(
    qtbot: Any,
    controller: SessionController,
    demo_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """It thawed every frozen cell into one list (at 440 cells, 80 MB resident)."""
    from tests.conftest import held_bytes

    live_check, live_rows, _ = _check_before_a_run(qtbot, controller, demo_dir)
    monkeypatch.setattr(browsed_recordings, "LIVE_SWEEPS", 1)
    frozen_controller = SessionController()
    try:
        check, rows, cells = _check_before_a_run(qtbot, frozen_controller, demo_dir)
        thawed = [r for _s, r in frozen_controller.store.read_recordings()]
        held = held_bytes(cells, frozen_controller.dataset, frozen_controller.session)
        recordings = held_bytes(thawed, frozen_controller.dataset)
    finally:
        assert frozen_controller.shutdown()
    assert any(c is not None and c.n_sweeps for c in live_check.coverage)
    assert check.coverage == live_check.coverage
    assert check.issues == live_check.issues
    assert rows == live_rows
    assert all(r[1] is not None for r in rows), "every demo cell has a rheobase"
    assert held < recordings / 4


@pytest.mark.usefixtures("frozen")
def test_a_run_lets_go_of_a_cells_borrowed_recordings_once_the_cell_is_done(
    qtbot: Any, controller: SessionController, demo_dir: Path, tmp_path: Path
) -> None:
    """Thawed for the run, they die with their cell, not at the end of the run.

    Held to the end, every frozen cell was a second Recording per sweep at the
    run's peak, and left holes among the result's objects (70 MB at 440 cells).
    """
    import copy
    import gc
    import json
    import weakref
    from collections.abc import Mapping

    from efex_gui.core.extraction.incremental import IncrementalExtractor

    config = json.loads((demo_dir / "config.json").read_text(encoding="utf-8"))
    metadata = config["files_metadata"]
    for entry in (e for cell in metadata.values() for es in cell.values() for e in es):
        entry["filepath"] = str(demo_dir / entry["filepath"])
    for name in list(metadata):  # four cells: two frozen before the last thawed
        metadata[f"{name}_again"] = copy.deepcopy(metadata[name])
    (tmp_path / "config.json").write_text(json.dumps(config), encoding="utf-8")
    controller.open_json(tmp_path / "config.json")
    load_everything(qtbot, controller)
    preread = controller.store.entries_read()
    borrowed: dict[str, list[Any]] = {}

    class Watched(Mapping[Any, Any]):
        def __getitem__(self, ref: Any) -> Any:
            settings, recordings = preread[ref]
            borrowed.setdefault(ref[0], []).extend(map(weakref.ref, recordings))
            return settings, recordings

        def __iter__(self) -> Any:
            return iter(preread)

        def __len__(self) -> int:
            return len(preread)

    frozen = set(controller.store._recordings.snapshot()[1])  # thawed when asked
    alive: list[int] = []

    def progress(done: int, total: int, message: str) -> None:
        if message.startswith("Features") and done == total and not alive:
            gc.collect()  # (what only a cycle holds does not count)
            # (the last cell thawed is the snapshot's to keep, until the next)
            *earlier, _last = [cell for cell in borrowed if cell in frozen]
            assert earlier, "two frozen cells at least"
            refs = [ref for cell in earlier for ref in borrowed[cell]]
            alive.append(sum(ref() is not None for ref in refs))

    result = IncrementalExtractor().run(
        controller.session, preread=Watched(), progress=progress
    )
    assert result.entries_read == 0, "every entry borrowed"
    assert len(borrowed) == len(result.cells) > 1
    assert alive == [0]
