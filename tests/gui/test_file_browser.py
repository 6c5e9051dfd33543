"""FileBrowser and its tree model: contents, check boxes, selection, menus, keys."""

from __future__ import annotations

import time
import tracemalloc
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QItemSelectionModel, Qt

from efex_gui.core.session.dataset import SweepKey
from efex_gui.core.session.exclusions import ExclusionKey
from efex_gui.widgets.file_browser import FileBrowser
from efex_gui.widgets.import_dialog import ImportDialog
from efex_gui.widgets.recording_tree_model import (
    GREY,
    KIND_ROLE,
    NAME,
    STATUS,
    _SweepRows,
)
from tests.conftest import shared_path
from tests.gui.helpers import load_everything

if TYPE_CHECKING:
    from pathlib import Path

    from efex_gui.app.controller import SessionController


def _browser(qtbot: Any, controller: SessionController) -> FileBrowser:
    browser = FileBrowser(controller)
    qtbot.addWidget(browser)
    return browser


def _row(model: Any, *names: str) -> Any:
    """Index of the row reached by following names (cell, protocol)."""
    index = None
    for name in names:
        parent = index if index is not None else model.index(-1, -1)
        rows = [model.index(r, 0, parent) for r in range(model.rowCount(parent))]
        index = next(i for i in rows if i.data() == name)
    return index


def test_tree_lists_cells_protocols_and_read_sweeps(
    qtbot: Any, controller: Any, demo_dir: Path
) -> None:
    browser = _browser(qtbot, controller)
    model = browser.model
    controller.open_json(demo_dir / "config.json")
    cells = [model.index(r, 0).data() for r in range(model.rowCount())]
    assert cells == ["SimCell1", "SimCell2"]
    idrest = _row(model, "SimCell1", "IDRest")
    assert idrest.data(KIND_ROLE) == "protocol"
    assert model.rowCount(idrest) == 1, "one placeholder row per unread file"
    assert "not read" in model.index(0, STATUS, idrest).data()
    load_everything(qtbot, controller)
    assert model.rowCount(idrest) == 8
    names = [model.index(r, NAME, idrest).data() for r in range(8)]
    assert names == [f"CurrentClampSeries_{i:03d}" for i in range(8)]
    statuses = {model.index(r, STATUS, idrest).data() for r in range(8)}
    assert statuses == {"ok"}
    assert "eCode Step" in model.index(idrest.row(), STATUS, idrest.parent()).data()


def test_unticking_excludes_and_greys(
    qtbot: Any, controller: Any, demo_dir: Path
) -> None:
    browser = _browser(qtbot, controller)
    model = browser.model
    controller.open_json(demo_dir / "config.json")
    load_everything(qtbot, controller)
    iv = _row(model, "SimCell2", "IV")
    sweep = model.index(2, NAME, iv)
    with qtbot.waitSignal(controller.exclusions_changed):
        assert model.setData(
            sweep, Qt.CheckState.Unchecked.value, Qt.ItemDataRole.CheckStateRole
        )
    assert sweep.data(Qt.ItemDataRole.CheckStateRole) == Qt.CheckState.Unchecked
    assert sweep.data(Qt.ItemDataRole.ForegroundRole).color() == GREY
    assert iv.data(Qt.ItemDataRole.CheckStateRole) == Qt.CheckState.PartiallyChecked
    assert model.index(2, STATUS, iv).data() == "excluded"
    controller.undo_stack.undo()
    assert sweep.data(Qt.ItemDataRole.CheckStateRole) == Qt.CheckState.Checked
    model.setData(iv, Qt.CheckState.Unchecked.value, Qt.ItemDataRole.CheckStateRole)
    assert controller.is_excluded(ExclusionKey("SimCell2", "IV"))
    assert all(
        model.index(r, STATUS, iv).data() == "excluded"
        for r in range(model.rowCount(iv))
    )


def test_selection_goes_to_the_controller_and_back(
    qtbot: Any, controller: Any, demo_dir: Path
) -> None:
    browser = _browser(qtbot, controller)
    model = browser.model
    controller.open_json(demo_dir / "config.json")
    load_everything(qtbot, controller)
    idrest = _row(model, "SimCell1", "IDRest")
    flags = (
        QItemSelectionModel.SelectionFlag.ClearAndSelect
        | QItemSelectionModel.SelectionFlag.Rows
    )
    with qtbot.waitSignal(controller.selection_changed) as selected:
        browser.tree.selectionModel().select(model.index(3, 0, idrest), flags)
    assert selected.args[0] == [model.sweep(model.index(3, 0, idrest))]
    controller.step_selection(1)
    rows = browser.tree.selectionModel().selectedRows()
    assert [r.row() for r in rows] == [4], "the tree follows the controller"
    with qtbot.waitSignal(controller.selection_changed) as selected:
        browser.tree.selectionModel().select(idrest, flags)
    assert len(selected.args[0]) == 8, "a protocol row selects its sweeps"


def test_x_key_and_context_menu(qtbot: Any, controller: Any, demo_dir: Path) -> None:
    browser = _browser(qtbot, controller)
    model = browser.model
    controller.open_json(demo_dir / "config.json")
    load_everything(qtbot, controller)
    apw = _row(model, "SimCell1", "APWaveform")
    browser.tree.setCurrentIndex(model.index(1, 0, apw))
    key = controller.exclusion_key(model.sweep(model.index(1, 0, apw)))
    qtbot.keyClick(browser.tree, Qt.Key.Key_X)
    assert controller.is_excluded(key)
    qtbot.keyClick(browser.tree, Qt.Key.Key_X)
    assert not controller.is_excluded(key)
    texts = [a.text() for a in browser.build_context_menu().actions() if a.text()]
    assert texts[:3] == ["Exclude", "Exclude with reason…", "Include"]
    browser.exclude_selected()
    assert controller.is_excluded(key)
    browser.include_selected()
    assert not controller.is_excluded(key)


def test_sscx_cells_list_fast_without_reading(
    qtbot: Any, controller: Any, preferences: Any
) -> None:
    """Import the 4 SSCx cells (~1000 files): listed, nothing read yet."""
    root = shared_path("sscx", "input-traces")
    browser = _browser(qtbot, controller)
    start = time.perf_counter()
    dialog = ImportDialog(root, None, preferences)
    qtbot.addWidget(dialog)
    controller.new_session(dialog.files_metadata(), root, dialog.ecode_overrides)
    elapsed = time.perf_counter() - start
    print(
        f"\nSSCx listing: {len(controller.dataset.entry_keys())} entries "
        f"in {elapsed:.2f} s"
    )
    model = browser.model
    assert model.rowCount() == 4
    assert len(controller.dataset.entry_keys()) == 505
    assert not any(
        controller.dataset.is_loaded(k) for k in controller.dataset.entry_keys()
    )
    cell = _row(model, "C080501B2-SR-C1")
    protocols = [model.index(r, 0, cell).data() for r in range(model.rowCount(cell))]
    assert "IDrest" in protocols
    assert "sAHP" in protocols
    first = controller.dataset.config(controller.dataset.entry_keys()[0])
    assert first["v_file"].startswith("C060109A1-SR-C1/")
    # the voltage of this cell was recorded on ch0 (the files' units say so)
    other = controller.dataset.entries("C080501B2-SR-C1", "IDrest")[0]
    assert "_ch0_" in other["v_file"]
    assert "_ch1_" in other["i_file"]


def test_context_menu_actions_act_on_the_selection(
    qtbot: Any, controller: Any, demo_dir: Path, monkeypatch: Any
) -> None:
    from PySide6.QtGui import QGuiApplication
    from PySide6.QtWidgets import QInputDialog

    browser = _browser(qtbot, controller)
    model = browser.model
    controller.open_json(demo_dir / "config.json")
    load_everything(qtbot, controller)
    iv = _row(model, "SimCell2", "IV")
    browser.tree.setCurrentIndex(iv)
    actions = {a.text(): a for a in browser.build_context_menu().actions()}
    monkeypatch.setattr(  # the reason dialog: the common reasons, or free text
        QInputDialog, "getItem", lambda *a, **k: ("  noisy baseline ", True)
    )
    with qtbot.waitSignal(controller.exclusions_changed):
        actions["Exclude with reason…"].trigger()
    key = ExclusionKey("SimCell2", "IV")
    assert controller.session.exclusions.reason(key) == "noisy baseline"
    assert model.index(0, STATUS, iv).data() == "excluded: noisy baseline"
    actions["Include"].trigger()
    assert not controller.is_excluded(key)
    actions["Copy file path"].trigger()
    assert QGuiApplication.clipboard().text() == str(demo_dir / "SimCell2.nwb")
    actions["Collapse all"].trigger()
    assert not browser.tree.isExpanded(iv.parent())
    actions["Expand all"].trigger()
    assert browser.tree.isExpanded(iv)
    with qtbot.waitSignal(controller.entries_loaded, timeout=60_000) as loaded:
        actions["Read now"].trigger()
    assert {k.protocol for k in loaded.args[0]} == {"IV"}


def test_arrow_keys_in_the_tree_select_and_draw_sweeps(
    qtbot: Any, controller: Any, demo_dir: Path
) -> None:
    browser = _browser(qtbot, controller)
    model = browser.model
    controller.open_json(demo_dir / "config.json")
    load_everything(qtbot, controller)
    idrest = _row(model, "SimCell1", "IDRest")
    browser.tree.expand(idrest)
    browser.tree.setCurrentIndex(model.index(2, 0, idrest))
    with qtbot.waitSignal(controller.selection_changed) as selected:
        qtbot.keyClick(browser.tree, Qt.Key.Key_Down)
    assert selected.args[0] == [model.sweep(model.index(3, 0, idrest))]
    with qtbot.waitSignal(controller.selection_changed) as selected:
        qtbot.keyClick(browser.tree, Qt.Key.Key_Up)
    assert selected.args[0] == [model.sweep(model.index(2, 0, idrest))]


def test_a_read_sweep_without_spikes_shows_zero(
    qtbot: Any, controller: Any, demo_dir: Path
) -> None:
    from efex_gui.widgets.recording_tree_model import SPIKES

    browser = _browser(qtbot, controller)
    controller.open_json(demo_dir / "config.json")
    iv = controller.dataset.sweeps("SimCell1", "IV")
    assert browser.model.index_of_sweep(iv[0], SPIKES).data() == "", "not read yet"
    load_everything(qtbot, controller)
    sweep = controller.dataset.sweeps("SimCell1", "IV")[0]
    assert controller.summary(sweep).spikecount is None  # efel: no peak_time
    assert browser.model.index_of_sweep(sweep, SPIKES).data() == "0"


def test_a_protocols_rows_are_its_sweeps_in_order(
    qtbot: Any, controller: Any, demo_dir: Path
) -> None:
    """Rows ↔ sweeps both ways, before and after reading (the rows are computed)."""
    browser = _browser(qtbot, controller)
    model = browser.model
    controller.open_json(demo_dir / "config.json")
    idrest = _row(model, "SimCell1", "IDRest")
    assert model.sweeps_under(idrest) == [SweepKey("SimCell1", "IDRest", 0, None)]
    load_everything(qtbot, controller)
    expected = [SweepKey("SimCell1", "IDRest", 0, i) for i in range(8)]
    assert model.sweeps_under(idrest) == expected
    for row, sweep in enumerate(expected):
        index = model.index(row, NAME, idrest)
        assert model.sweep(index) == sweep
        assert model.index_of_sweep(sweep, NAME) == index
    assert not model.index_of_sweep(SweepKey("SimCell1", "IDRest", 0, 8)).isValid()
    assert not model.index_of_sweep(SweepKey("SimCell1", "IDRest", 1, 0)).isValid()


def test_the_sweep_rows_hold_no_key_per_sweep() -> None:
    """A SweepKey per row of every protocol took 0.1 kB a sweep (7 000 at 44 cells)."""
    counts = [1] * 5_000 + [3] * 500 + [1] * 500  # an entry not read: one row
    read = [True] * 5_500 + [False] * 500
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        rows = _SweepRows("cell", "IDRest", counts, read)
        held = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert len(rows) == 7_000
    assert held / len(rows) < 16
    assert rows[0] == SweepKey("cell", "IDRest", 0, 0)
    assert rows[5_001] == SweepKey("cell", "IDRest", 5_000, 1)
    assert rows[-1] == SweepKey("cell", "IDRest", 5_999, None)
    assert list(rows)[5_001:5_003] == rows[5_001:5_003]
    assert [rows.row_of(rows[i]) for i in (0, 5_001, 6_999)] == [0, 5_001, 6_999]
