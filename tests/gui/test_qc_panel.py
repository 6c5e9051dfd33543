"""QC in the GUI: consensus windows on reading, flags in the tree and the QC panel,
"Exclude all flagged by <check>", QC settings, and the draggable stimulus window."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor

from efex_gui.core.recordings.sweep_qc import evaluate_recordings, flagged
from efex_gui.core.recordings.timing_consensus import SOURCE_KEY, stimulus_source
from efex_gui.widgets.qc_panel import QCPanel
from efex_gui.widgets.trace_plot import TracePlot
from tests.gui.helpers import load_everything

if TYPE_CHECKING:
    from pathlib import Path

    from efex_gui.app.controller import SessionController


def _loaded(qtbot: Any, controller: SessionController, demo_dir: Path) -> None:
    controller.open_json(demo_dir / "config.json")
    load_everything(qtbot, controller)


def test_reading_gives_each_protocol_its_consensus_window(
    qtbot: Any, controller: SessionController, demo_dir: Path
) -> None:
    _loaded(qtbot, controller, demo_dir)
    (key,) = [k for k in controller.dataset.entry_keys()
              if (k.cell, k.protocol) == ("SimCell1", "IDRest")]  # fmt: skip
    config = controller.dataset.config(key)
    assert config[SOURCE_KEY] == "consensus"
    assert abs(config["ton"] - 700.0) < 1
    assert abs(config["toff"] - 2700.0) < 1
    for sweep in controller.dataset.sweeps("SimCell1", "IDRest"):
        recording = controller.store.recording(sweep)
        assert stimulus_source(recording) == "consensus"
        assert recording.qc_measures is not None
    assert controller.store.qc_results(sweep), "QC evaluated once the reading ended"


def test_the_store_keeps_the_flags_and_evaluates_a_cell_when_asked(
    qtbot: Any, controller: SessionController, demo_dir: Path
) -> None:
    """Only the flagging results of flagged sweeps are kept for every sweep read
    (eleven results per sweep took 0.5 kB each); a sweep's full results are its
    cell's evaluated when asked, the same as the core gives."""
    _loaded(qtbot, controller, demo_dir)
    store = controller.store
    assert store.qc == {}  # the clean demo: nothing flagged, nothing kept
    pairs = [(s, r) for s, r in store.read_recordings() if s.cell == "SimCell1"]
    deltas = [r.qc_measures["vm_delta"] for _, r in pairs]
    median = sorted(d for d in deltas if d is not None)[len(deltas) // 2]
    controller.session.qc.thresholds["vm_delta"] = median  # flags about half
    store.update_qc()
    expected = evaluate_recordings([r for _, r in pairs], controller.session.qc)
    assert any(flagged(row) for row in expected)
    assert any(not flagged(row) for row in expected)
    for (sweep, _), row in zip(pairs, expected, strict=True):
        assert store.qc_results(sweep) == row
        assert store.qc_flags(sweep) == tuple(flagged(row))
        assert (sweep in store.qc) == bool(flagged(row))


def _panel(qtbot: Any, controller: SessionController) -> QCPanel:
    panel = QCPanel(controller)
    qtbot.addWidget(panel)
    return panel


def _tighten(panel: QCPanel, check_row: int, threshold: str) -> None:
    panel.settings_table.item(check_row, 1).setText(threshold)


def test_qc_panel_groups_flags_and_excludes_them_in_one_undoable_step(
    qtbot: Any, controller: SessionController, demo_dir: Path
) -> None:
    _loaded(qtbot, controller, demo_dir)
    panel = _panel(qtbot, controller)
    assert panel.tree.topLevelItemCount() == 0  # the clean demo: nothing flagged
    row = [c.name for c in panel_checks()].index("vm_delta")
    with qtbot.waitSignal(controller.qc_changed):
        _tighten(panel, row, "0")
    assert controller.session.qc.thresholds["vm_delta"] == 0.0
    (group,) = [
        panel.tree.topLevelItem(i) for i in range(panel.tree.topLevelItemCount())
    ]
    flagged = group.childCount()
    assert flagged > 10
    assert group.text(0) == f"Vm before vs end ({flagged})"
    first = group.child(0)
    sweep = first.data(0, Qt.ItemDataRole.UserRole)
    summary = controller.summary(sweep)
    assert summary.status == "flagged"
    assert "Vm before vs end" in summary.reason
    assert any("Vm before vs end" in line for line in summary.flags)
    with qtbot.waitSignal(controller.selection_changed):
        panel.tree.itemClicked.emit(first, 0)
    assert controller.selection == [sweep]
    # the arrow keys walk the flagged sweeps as clicks do
    panel.show()
    group.setExpanded(True)
    panel.tree.setCurrentItem(first)
    with qtbot.waitSignal(controller.selection_changed):
        qtbot.keyClick(panel.tree, Qt.Key.Key_Down)
    assert controller.selection == [group.child(1).data(0, Qt.ItemDataRole.UserRole)]
    panel.tree.setCurrentItem(group)
    assert panel.exclude_button.text() == "Exclude all flagged by Vm before vs end"
    depth = controller.undo_stack.count()
    panel.exclude_button.click()
    assert controller.undo_stack.count() == depth + 1
    key = controller.exclusion_key(sweep)
    assert controller.session.exclusions.reason(key) == "QC: Vm before vs end"
    assert controller.summary(sweep).status == "excluded"
    # the flags did not change: the same rows, greyed (nothing rebuilt)
    assert first.foreground(0).color() == QColor(Qt.GlobalColor.gray)
    controller.undo_stack.undo()
    assert not controller.is_excluded(key)
    assert controller.summary(sweep).status == "flagged"
    assert first.foreground(0).color() != QColor(Qt.GlobalColor.gray)
    # a rebuilt tree does not move the selection
    selected = list(controller.selection)
    panel.refresh()
    assert controller.selection == selected


def test_a_switched_off_check_flags_nothing(
    qtbot: Any, controller: SessionController, demo_dir: Path
) -> None:
    _loaded(qtbot, controller, demo_dir)
    panel = _panel(qtbot, controller)
    row = [c.name for c in panel_checks()].index("vm_delta")
    _tighten(panel, row, "0")
    with qtbot.waitSignal(controller.qc_changed):
        panel.settings_table.item(row, 0).setCheckState(Qt.CheckState.Unchecked)
    assert controller.session.qc.enabled["vm_delta"] is False
    assert panel.tree.topLevelItemCount() == 0


def panel_checks() -> Any:
    from efex_gui.core.recordings.qc_settings import CHECKS

    return CHECKS


def _plot(qtbot: Any, controller: SessionController) -> TracePlot:
    plot = TracePlot(controller)
    qtbot.addWidget(plot)
    plot.resize(900, 600)
    return plot


def test_dragging_the_window_sets_it_for_the_protocol_and_can_be_undone(
    qtbot: Any, controller: SessionController, demo_dir: Path
) -> None:
    _loaded(qtbot, controller, demo_dir)
    plot = _plot(qtbot, controller)
    plot.choose_scope = lambda: "protocol"
    sweep = controller.dataset.sweeps("SimCell1", "IV")[2]
    with qtbot.waitSignal(plot.drawn):
        controller.select_sweeps([sweep])
    voltage_band, current_band = plot.stimulus_regions
    before = controller.recordings_for(sweep)[0]
    old = (before.ton, before.toff)
    voltage_band.setRegion((300.04, 1199.97))  # the drag: snapped to dt = 0.1 ms
    assert current_band.getRegion() == voltage_band.getRegion()
    with qtbot.waitSignal(plot.window_applied) as applied:
        voltage_band.sigRegionChangeFinished.emit(voltage_band)  # the release
    keys = applied.args[0]
    assert {k.cell for k in keys} == {"SimCell1"}
    assert {k.protocol for k in keys} == {"IV"}
    config = controller.dataset.config(keys[0])
    assert (config["ton"], config["toff"]) == (300.0, 1200.0)
    assert SOURCE_KEY not in config
    qtbot.waitUntil(lambda: len(plot.stimulus_regions) == 2)
    (after,) = controller.recordings_for(sweep)
    assert (after.ton, after.toff) == (300.0, 1200.0)
    assert stimulus_source(after) == "user"
    assert plot.stimulus_regions[0].getRegion() == (300.0, 1200.0)
    other_cell = controller.dataset.sweeps("SimCell2", "IV")[0]
    assert stimulus_source(controller.recordings_for(other_cell)[0]) == "consensus"
    controller.undo_stack.undo()
    (undone,) = controller.recordings_for(sweep)
    assert (undone.ton, undone.toff) == old
    assert stimulus_source(undone) == "consensus"


def test_a_window_outside_the_trace_is_refused(
    qtbot: Any, controller: SessionController, demo_dir: Path
) -> None:
    _loaded(qtbot, controller, demo_dir)
    plot = _plot(qtbot, controller)
    plot.choose_scope = lambda: "all_cells"
    sweep = controller.dataset.sweeps("SimCell1", "IV")[0]
    with qtbot.waitSignal(plot.drawn):
        controller.select_sweeps([sweep])
    band = plot.stimulus_regions[0]
    depth = controller.undo_stack.count()
    band.setRegion((400.0, 2000.0))  # the IV sweeps last 1500 ms
    with qtbot.waitSignal(plot.window_refused) as refused:
        band.sigRegionChangeFinished.emit(band)
    assert "outside the trace" in refused.args[0]
    assert "1500" in refused.args[0]
    assert controller.undo_stack.count() == depth
