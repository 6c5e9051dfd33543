"""The target check keeps the browser's cells between changes (issue 14).

Each check thawed every frozen cell again (2.4 s at 440 cells on the GUI thread,
twice when the rheobase view asked too). :class:`BrowsedCells` keeps each cell
until the store's stamp of it changes: after every kind of change it must give
what a fresh derivation gives, and with nothing changed it thaws no frozen cell.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from efex_gui.app.extraction_review import (
    BrowsedCells,
    browsed_cells,
    review_rows,
    target_check,
)
from efex_gui.core.session.dataset import EntryKey, SweepKey
from tests.gui.helpers import load_everything

if TYPE_CHECKING:
    from pathlib import Path

    from efex_gui.app.controller import SessionController
    from efex_gui.app.extraction_controller import ExtractionController


#: every cell but the last used is frozen (tests/gui/conftest.py)
pytestmark = pytest.mark.usefixtures("frozen")


def _values(cells: list[Any]) -> list[Any]:
    return [
        (
            cell.name,
            cell.rheobase,
            [
                (s.protocol_name, s.amp, s.amp_rel, s.spikecount)
                for s in cell.recordings
            ],
        )
        for cell in cells
    ]


def _rows(rows: list[Any]) -> list[Any]:
    return [(r.cell, r.computed, r.used, r.by_strategy) for r in rows]


def _assert_as_fresh(kept: BrowsedCells, controller: SessionController) -> list[Any]:
    """Assert that the cells kept, their check and review are a fresh derivation's."""
    cells, fresh = kept(controller), browsed_cells(controller)
    assert _values(cells) == _values(fresh)
    session = controller.session
    check, fresh_check = target_check(session, cells), target_check(session, fresh)
    assert check.coverage == fresh_check.coverage
    assert check.issues == fresh_check.issues
    rows = review_rows(session, cells)
    assert _rows(rows) == _rows(review_rows(session, fresh))
    return _values(cells)


@pytest.fixture
def kept(qtbot: Any, controller: SessionController, demo_dir: Path) -> BrowsedCells:
    """The demo read, one cell frozen, and its cells kept once."""
    controller.open_json(demo_dir / "config.json")
    load_everything(qtbot, controller)
    assert controller.store._recordings.snapshot()[1], "a cell is frozen"
    kept = BrowsedCells()
    _assert_as_fresh(kept, controller)
    return kept


def _frozen_cell(controller: SessionController) -> str:
    return next(iter(controller.store._recordings.snapshot()[1]))


def test_entries_read_after_the_cells_were_kept(
    qtbot: Any, controller: SessionController, demo_dir: Path
) -> None:
    """APWaveform last: not a rheobase protocol, the rheobases stay."""
    controller.open_json(demo_dir / "config.json")
    keys = controller.dataset.entry_keys()
    with qtbot.waitSignal(controller.task_finished, timeout=120_000):
        controller.load_entries([k for k in keys if k.protocol != "APWaveform"])
    qtbot.waitUntil(lambda: not controller._pending_loaded, timeout=5000)
    rheobases = dict(controller.store.rheobases)
    kept = BrowsedCells()
    before = _assert_as_fresh(kept, controller)
    load_everything(qtbot, controller)
    assert controller.store.rheobases == rheobases
    assert _assert_as_fresh(kept, controller) != before


def test_an_entry_read_again_with_another_window(
    qtbot: Any, controller: SessionController, kept: BrowsedCells
) -> None:
    cell = _frozen_cell(controller)
    before = _assert_as_fresh(kept, controller)
    key = EntryKey(cell, "IDRest", 0)
    ton = controller.dataset.config(key)["ton"]
    with qtbot.waitSignal(controller.task_finished, timeout=120_000):
        controller.set_metadata([key], {"ton": ton, "toff": ton + 150.0})
        _assert_as_fresh(kept, controller)  # forgotten, not read yet
    qtbot.waitUntil(lambda: not controller._pending_loaded, timeout=5000)
    assert _assert_as_fresh(kept, controller) != before, "fewer spikes counted"


def test_an_exclusion_that_leaves_the_rheobase(
    controller: SessionController, kept: BrowsedCells
) -> None:
    cell = _frozen_cell(controller)
    rheobase = controller.store.rheobases[cell]
    before = _assert_as_fresh(kept, controller)
    sweep = SweepKey(cell, "APWaveform", 0, 0)
    controller.set_excluded([controller.exclusion_key(sweep)], True, "test")
    assert controller.store.rheobases[cell] == rheobase
    assert _assert_as_fresh(kept, controller) != before
    controller.undo_stack.undo()
    assert _assert_as_fresh(kept, controller) == before


def test_a_rheobase_computed_with_other_settings(
    controller: SessionController,
    extraction: ExtractionController,
    kept: BrowsedCells,
) -> None:
    before = _assert_as_fresh(kept, controller)
    extraction.set_settings(extraction.with_settings(protocols_rheobase=["IV"]))
    after = _assert_as_fresh(kept, controller)
    assert [c[1] for c in after] != [c[1] for c in before], "other rheobases"


def test_a_rheobase_overridden(
    controller: SessionController,
    extraction: ExtractionController,
    kept: BrowsedCells,
) -> None:
    cell = _frozen_cell(controller)
    before = _assert_as_fresh(kept, controller)
    extraction.set_rheobase_override(cell, 0.5)
    after = _assert_as_fresh(kept, controller)
    assert {c[0]: c[1] for c in after}[cell] == 0.5
    assert after != before
    controller.undo_stack.undo()
    assert _assert_as_fresh(kept, controller) == before


def test_absolute_amplitudes(
    controller: SessionController,
    extraction: ExtractionController,
    kept: BrowsedCells,
) -> None:
    before = _assert_as_fresh(kept, controller)
    extraction.set_settings(extraction.with_settings(absolute_amplitude=True))
    after = _assert_as_fresh(kept, controller)
    assert all(c[1] is None for c in after), "no rheobase in absolute mode"
    assert after != before
    controller.undo_stack.undo()
    assert _assert_as_fresh(kept, controller) == before


def test_a_session_opened_again(
    qtbot: Any, controller: SessionController, demo_dir: Path, kept: BrowsedCells
) -> None:
    controller.open_json(demo_dir / "config.json")  # the same cells, nothing read
    assert _assert_as_fresh(kept, controller) == []
    load_everything(qtbot, controller)
    assert len(_assert_as_fresh(kept, controller)) == 2


def test_whether_every_entry_is_read_follows_reads_exclusions_and_sessions(
    qtbot: Any, controller: SessionController, demo_dir: Path
) -> None:
    from efex_gui.app.extraction_review import all_read

    kept = BrowsedCells()
    controller.open_json(demo_dir / "config.json")
    keys = controller.dataset.entry_keys()
    last = next(k for k in keys if k.protocol == "APWaveform")
    with qtbot.waitSignal(controller.task_finished, timeout=120_000):
        controller.load_entries([k for k in keys if k != last])
    assert kept.all_read(controller) is all_read(controller) is False
    unread = SweepKey(last.cell, last.protocol, last.entry, None)
    controller.set_excluded([controller.exclusion_key(unread)], True)
    assert kept.all_read(controller) is all_read(controller) is True
    controller.undo_stack.undo()
    assert kept.all_read(controller) is all_read(controller) is False
    with qtbot.waitSignal(controller.task_finished, timeout=120_000):
        controller.load_entries([last])
    assert kept.all_read(controller) is all_read(controller) is True
    ton = controller.dataset.config(last)["ton"]
    controller.set_metadata([last], {"ton": ton + 1.0})  # forgotten, read again
    assert kept.all_read(controller) is all_read(controller) is False
    qtbot.waitUntil(lambda: kept.all_read(controller), timeout=60_000)
    controller.open_json(demo_dir / "config.json")
    assert kept.all_read(controller) is all_read(controller) is False


def test_a_second_check_thaws_no_frozen_cell_nor_does_the_rheobase_review(
    qtbot: Any,
    controller: SessionController,
    demo_dir: Path,
    extraction: ExtractionController,
) -> None:
    controller.open_json(demo_dir / "config.json")
    load_everything(qtbot, controller)
    recordings = controller.store._recordings
    assert recordings.snapshot()[1], "a cell is frozen"
    check = extraction.update_check()  # (the check after the reads may be done)
    thaws = recordings.thaws
    again = extraction.update_check()
    rows = extraction.rheobase_rows()
    assert recordings.thaws == thaws, "a frozen cell was thawed again"
    assert check.coverage == again.coverage
    assert any(c is not None and c.n_sweeps for c in check.coverage)
    fresh = browsed_cells(controller)
    assert _rows(rows) == _rows(review_rows(controller.session, fresh))
    assert check.coverage == target_check(controller.session, fresh).coverage
