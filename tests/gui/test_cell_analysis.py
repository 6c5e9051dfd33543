"""The Cells dock, the cell curves, phase plot, first spikes, cursors, figure export."""

from __future__ import annotations

import json
import math
from typing import TYPE_CHECKING, Any

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from efex_gui.app.cell_analysis import CellAnalysisController
from efex_gui.app.extraction_controller import ExtractionController
from efex_gui.core.analysis.cell_summary import MEASURES, summarize_cells
from efex_gui.core.analysis.display import low_pass
from efex_gui.core.session.dataset import SweepKey
from efex_gui.widgets.cell_plots import CellPlots
from efex_gui.widgets.cells_view import SINGLE_MARK, CellsView
from efex_gui.widgets.figure_export import export_figure
from efex_gui.widgets.trace_plot import TracePlot
from efex_gui.widgets.trace_tools import TraceTools
from tests.gui.extraction_helpers import open_demo, run_and_wait

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path


@pytest.fixture
def analysis(
    controller: Any, demo_dir: Path, qtbot: Any
) -> Iterator[CellAnalysisController]:
    open_demo(controller, demo_dir)
    extraction = ExtractionController(controller)
    yield CellAnalysisController(extraction)
    assert extraction.shutdown()


def _summarised(qtbot: Any, analysis: CellAnalysisController) -> Any:
    with qtbot.waitSignal(analysis.summaries_changed, timeout=300_000) as blocker:
        run_and_wait(qtbot, analysis.extraction)
    return blocker.args[0]


def test_cells_dock_shows_the_core_summary(
    qtbot: Any, analysis: CellAnalysisController
) -> None:
    view = CellsView(analysis)
    qtbot.addWidget(view)
    summaries = _summarised(qtbot, analysis)
    expected = summarize_cells(analysis.result.cells, analysis.context())
    assert [s.to_json() for s in summaries] == [s.to_json() for s in expected]
    model = view.proxy
    assert model.rowCount() == 2
    assert model.columnCount() == 1 + len(MEASURES)
    rin_column = 1 + MEASURES.index("input_resistance_MOhm")
    for row in range(2):
        cell = model.data(model.index(row, 0))
        value = analysis.summary(cell).value("input_resistance_MOhm")
        assert model.data(model.index(row, rin_column)) == f"{value:.4g}"
    # sortable: descending input resistance puts the larger first
    view.table.sortByColumn(rin_column, Qt.SortOrder.DescendingOrder)
    values = [
        analysis.summary(model.data(model.index(r, 0))).value("input_resistance_MOhm")
        for r in range(2)
    ]
    assert values == sorted(values, reverse=True)
    # a single-sweep value is marked and says so
    sag_column = 1 + MEASURES.index("sag_ratio")
    assert model.data(model.index(0, sag_column)).endswith(SINGLE_MARK)
    assert "single sweep" in model.data(
        model.index(0, sag_column), Qt.ItemDataRole.ToolTipRole
    )


def test_click_selects_the_sweeps_a_value_came_from(
    qtbot: Any, analysis: CellAnalysisController
) -> None:
    view = CellsView(analysis)
    qtbot.addWidget(view)
    _summarised(qtbot, analysis)
    column = 1 + MEASURES.index("input_resistance_MOhm")
    index = view.proxy.index(0, column)
    cell = view.proxy.data(view.proxy.index(0, 0))
    with qtbot.waitSignal(analysis.sc.selection_changed) as blocker:
        view.select_sweeps_of(index)
    selected = blocker.args[0]
    measure = analysis.summary(cell).measures["input_resistance_MOhm"]
    assert len(selected) == measure.n == 6
    assert {(s.cell, s.protocol) for s in selected} == {(cell, "IV")}
    assert all(isinstance(s, SweepKey) for s in selected)


def test_missing_protocol_tooltip_and_copy_export(
    qtbot: Any, analysis: CellAnalysisController, tmp_path: Path
) -> None:
    from efex_gui.core.analysis.protocol_map import MeasureProtocols

    view = CellsView(analysis)
    qtbot.addWidget(view)
    _summarised(qtbot, analysis)
    with qtbot.waitSignal(analysis.summaries_changed, timeout=300_000):
        analysis.set_protocols(MeasureProtocols.from_dict({"tau": ["IDhyperpol"]}))
    column = 1 + MEASURES.index("tau_ms")
    index = view.proxy.index(0, column)
    assert view.proxy.data(index) == ""
    assert view.proxy.data(index, Qt.ItemDataRole.ToolTipRole).endswith(
        "no IDhyperpol sweeps"
    )
    view.table.selectRow(1)
    view.copy_selection()
    lines = QApplication.clipboard().text().splitlines()
    assert lines[0].startswith("Cell\tRheobase (nA)")
    assert len(lines) == 2
    cell = lines[1].split("\t")[0]
    rmp = float(lines[1].split("\t")[1 + MEASURES.index("rmp_mV")])
    assert rmp == analysis.summary(cell).value("rmp_mV")
    written = analysis.export(tmp_path / "cells.xlsx")
    from openpyxl import load_workbook

    sheet = load_workbook(written).active
    assert sheet.max_row == 3
    assert sheet.cell(1, 1).value == "cell"


def test_curves_points_link_to_sweeps_and_mean(
    qtbot: Any, analysis: CellAnalysisController
) -> None:
    plots = CellPlots(analysis)
    qtbot.addWidget(plots)
    with qtbot.waitSignal(
        plots.drawn, timeout=300_000, check_params_cb=lambda n: n == "curves"
    ):
        _summarised(qtbot, analysis)
    curves = analysis.curves()
    fi_points = plots.points["fi"]
    assert len(fi_points) == 2
    for item, curve in zip(fi_points, curves["fi"], strict=True):
        x, y = item.getData()
        assert np.allclose(x, curve.x)
        assert np.allclose(y, curve.y)
    # mean ± s.e.m. drawn with two cells
    errors = [
        i for i in plots.fi.getPlotItem().items if type(i).__name__ == "ErrorBarItem"
    ]
    assert len(errors) == 1
    # clicking a point selects its sweep
    point = fi_points[0].points()[3]
    with qtbot.waitSignal(analysis.sc.selection_changed) as blocker:
        plots._on_point_clicked(fi_points[0], [point])
    (key,) = blocker.args[0]
    assert key.cell == curves["fi"][0].cell
    assert key.protocol in ("IDRest", "IDthresh")
    # only the cells chosen in the table
    with qtbot.waitSignal(plots.drawn):
        analysis.set_curve_cells([curves["fi"][1].cell])
    assert len(plots.points["fi"]) == 1
    assert not [
        i for i in plots.fi.getPlotItem().items if type(i).__name__ == "ErrorBarItem"
    ]
    # % of rheobase
    plots.x_mode.setCurrentIndex(1)
    x, _ = plots.points["fi"][0].getData()
    rheobase = analysis.summary(curves["fi"][1].cell).value("rheobase_nA")
    assert np.allclose(x, curves["fi"][1].x * 100 / rheobase)


def test_phase_plot_and_first_spikes_of_the_selection(
    qtbot: Any, analysis: CellAnalysisController
) -> None:
    plots = CellPlots(analysis)
    qtbot.addWidget(plots)
    _summarised(qtbot, analysis)
    sc = analysis.sc
    sweeps = [SweepKey("SimCell1", "IDRest", 0, i) for i in (5, 6, 7)]
    sweeps.append(SweepKey("SimCell1", "IV", 0, 0))  # no spike
    with qtbot.waitSignal(
        plots.drawn, timeout=10_000, check_params_cb=lambda n: n == "sweeps"
    ):
        sc.select_sweeps(sweeps)
    assert plots.sweep_counts == {"phase": 4, "spikes": 3}
    phase_items = plots.phase.getPlotItem().listDataItems()
    recording = sc.recordings_for(sweeps[0])[0]
    x, y = phase_items[0].getData()
    window = (recording.t >= recording.ton) & (recording.t <= recording.toff)
    assert np.allclose(x, recording.voltage[window])
    assert np.allclose(y, np.gradient(recording.voltage[window], recording.t[window]))
    title = plots.spikes.getPlotItem().titleLabel.text
    assert "3 sweeps" in title
    assert "1 without a spike" in title
    # three spikes + the average, threshold marks at time 0
    assert len(plots.spikes.getPlotItem().listDataItems()) >= 4


def test_cursors_and_display_filters(
    qtbot: Any, controller: Any, demo_dir: Path
) -> None:
    open_demo(controller, demo_dir)
    plot = TracePlot(controller)
    qtbot.addWidget(plot)
    tools = TraceTools(plot)
    sweep = SweepKey("SimCell1", "IV", 0, 0)
    with qtbot.waitSignal(plot.drawn, timeout=60_000):
        controller.select_sweeps([sweep])
    recording = controller.recordings_for(sweep)[0]
    raw = plot.voltage_items[0].getOriginalDataset()[1]
    tools.cursors_box.setChecked(True)
    tools.cursors[0].setValue(100.0)
    tools.cursors[1].setValue(1100.0)
    readout = tools.measure()
    t, v = recording.t, recording.voltage
    assert readout.dt_ms == pytest.approx(1000.0)
    assert readout.dv_mv == pytest.approx(
        np.interp(1100.0, t, v) - np.interp(100.0, t, v)
    )
    assert readout.mean_mv == pytest.approx(v[(t >= 100) & (t <= 1100)].mean())
    assert "Δt 1000.00 ms" in tools.readout.text()
    with qtbot.waitSignal(plot.drawn):
        tools.baseline_box.setChecked(True)
    drawn = plot.voltage_items[0].getOriginalDataset()[1]
    assert abs(np.median(drawn[t < recording.ton])) < 1e-9
    assert np.array_equal(recording.voltage, v)  # the recording is untouched
    assert tools.cursors[0].scene() is not None  # cursors survive the redraw
    with qtbot.waitSignal(plot.drawn):
        tools.baseline_box.setChecked(False)
    with qtbot.waitSignal(plot.drawn):
        tools.filter_box.setChecked(True)
    filtered = plot.voltage_items[0].getOriginalDataset()[1]
    dt = float(t[1] - t[0])
    assert np.allclose(filtered, low_pass(raw, dt, tools.cutoff.value()))
    assert np.std(np.diff(filtered)) < np.std(np.diff(raw))


def test_figure_export_png_svg_and_sidecar(
    qtbot: Any, analysis: CellAnalysisController, tmp_path: Path
) -> None:
    plots = CellPlots(analysis)
    qtbot.addWidget(plots)
    plots.resize(800, 600)
    _summarised(qtbot, analysis)
    item = plots.current_plot()
    png = export_figure(item, tmp_path / "fi.png", plots._provenance())
    from PySide6.QtGui import QImage

    image = QImage(str(png))
    assert image.width() == 2100
    assert image.height() > 1000
    svg = export_figure(item, tmp_path / "fi.svg", plots._provenance())
    assert "<svg" in svg.read_text(encoding="utf-8")[:2000]
    sidecar = json.loads((tmp_path / "fi.png.provenance.json").read_text())
    assert sidecar["figure"] == "fi.png"
    assert sidecar["plot"] == "f-I"
    assert sidecar["x_axis"] == "nA"
    assert "efex_gui_version" in sidecar
    assert sidecar["efel_settings"]["Threshold"] == -20.0
    plots.figure_button.actions()[1].trigger()  # Copy figure
    assert not QApplication.clipboard().image().isNull()
    assert math.isfinite(analysis.summaries[0].value("rmp_mV"))


def test_crowded_views_stay_readable(
    qtbot: Any, analysis: CellAnalysisController
) -> None:
    from efex_gui.core.rheobase.review import RheobaseRow
    from efex_gui.widgets.feature_plot import FeaturePlot
    from efex_gui.widgets.rheobase_view import RheobaseView

    plot = FeaturePlot(analysis.extraction)
    qtbot.addWidget(plot)
    entries = ["■ target"] + [f"● Cell{i}" for i in range(44)]
    plot._set_legend(entries)
    assert "44 cells" in plot.legend.text()
    assert "Cell3" not in plot.legend.text()
    assert all(f"Cell{i}<br>" in plot.legend.toolTip() for i in range(43))
    plot._set_legend(entries[:4])
    assert "Cell2" in plot.legend.text()
    view = RheobaseView(analysis.extraction)
    qtbot.addWidget(view)
    row = RheobaseRow(
        "c",
        [],
        {"absolute": 0.1, "flush": 0.101, "majority": 0.102, "interpolation": 0.1},
        0.1,
        None,
        0.1,
    )
    view._draw_lines(row)
    positions = [view.lines[n].label.orthoPos for n in ("flush", "majority")]
    assert len(set(positions)) == 2  # close values, labels one above the other
    trace = TracePlot(analysis.sc)
    qtbot.addWidget(trace)
    sweeps = [
        SweepKey(c, p, 0, i)
        for c in ("SimCell1", "SimCell2")
        for p, n in (("IDRest", 8), ("IDthresh", 13), ("IV", 8))
        for i in range(n)
    ]
    with qtbot.waitSignal(trace.drawn, timeout=60_000):
        analysis.sc.select_sweeps(sweeps)
    assert "the first 40 of 58 selected sweeps" in trace.title.text()


def test_click_outside_the_rows_is_ignored(
    qtbot: Any, analysis: CellAnalysisController
) -> None:
    view = CellsView(analysis)
    qtbot.addWidget(view)
    with qtbot.assertNotEmitted(analysis.sc.selection_changed):
        view.select_sweeps_of(view.proxy.index(0, 2))  # no summary yet


def test_an_exclusion_summarises_only_the_touched_cell_reading_no_file(
    qtbot: Any, analysis: CellAnalysisController, monkeypatch: pytest.MonkeyPatch
) -> None:
    from efex_gui.app import cell_analysis
    from efex_gui.core.recordings import traces

    first = _summarised(qtbot, analysis)
    result = analysis.result
    recording = next(r for r in result.cells[0].recordings if r.protocol_name == "IV")
    ref = result.sweep_ref(recording)
    untouched = next(c.name for c in result.cells if c.name != ref.cell)
    summarised: list[list[str]] = []
    real = cell_analysis.summarize_cells

    def recording_summaries(cells: Any, *args: Any, **kwargs: Any) -> Any:
        summarised.append([c.name for c in cells])
        return real(cells, *args, **kwargs)

    read: list[Any] = []
    real_reload = traces.reload_traces

    def reload(recordings: Any) -> Any:
        recordings = list(recordings)
        read.extend(recordings)
        return real_reload(recordings)

    monkeypatch.setattr(cell_analysis, "summarize_cells", recording_summaries)
    monkeypatch.setattr(traces, "reload_traces", reload)
    key = analysis.sc.exclusion_key(
        SweepKey(ref.cell, ref.protocol, ref.entry, ref.index)
    )
    with qtbot.waitSignal(analysis.summaries_changed, timeout=300_000) as blocker:
        analysis.sc.set_excluded([key], True, "test")
    assert summarised == [[ref.cell]]
    assert read == [], "cached sweep values need no trace"
    summaries = blocker.args[0]
    assert analysis.summary(untouched) is next(s for s in first if s.cell == untouched)
    expected = real(analysis.result.cells, analysis.context())
    assert [s.to_json() for s in summaries] == [s.to_json() for s in expected]


def test_an_exclusion_does_not_wait_for_the_summary_it_replaces(
    qtbot: Any, analysis: CellAnalysisController, monkeypatch: pytest.MonkeyPatch
) -> None:
    from efex_gui.app import cell_analysis
    from efex_gui.core.errors import Cancelled

    extraction = analysis.extraction
    real = cell_analysis.summarize_cells
    stopped: list[bool] = []
    running: list[bool] = []

    def endless(cells: Any, context: Any, *, cancel: Any = None) -> Any:
        if not stopped:  # the first summary runs until it is stopped
            running.append(True)
            stopped.append(cancel.wait(240))
            raise Cancelled("stopped")
        return real(cells, context, cancel=cancel)

    monkeypatch.setattr(cell_analysis, "summarize_cells", endless)
    first = run_and_wait(qtbot, extraction)
    qtbot.waitUntil(lambda: bool(running), timeout=10_000)  # after SUMMARY_DELAY_MS
    recording = next(r for r in first.cells[0].recordings if r.protocol_name == "IV")
    ref = first.sweep_ref(recording)
    key = analysis.sc.exclusion_key(
        SweepKey(ref.cell, ref.protocol, ref.entry, ref.index)
    )
    with qtbot.waitSignal(analysis.summaries_changed, timeout=240_000) as blocker:
        analysis.sc.set_excluded([key], True, "test")
    assert stopped == [True], "the exclusion stopped the running summary"
    assert extraction.result is not first
    assert [s.cell for s in blocker.args[0]] == [
        c.name for c in extraction.result.cells
    ]


def test_a_closed_session_leaves_no_cell_curves(
    qtbot: Any, analysis: CellAnalysisController
) -> None:
    """New / Close session: the last session's cells are not drawn any more."""
    from efex_gui.core.session.document import Session

    plots = CellPlots(analysis)
    view = CellsView(analysis)
    qtbot.addWidget(plots)
    qtbot.addWidget(view)
    _summarised(qtbot, analysis)
    assert plots.points["fi"]
    with qtbot.waitSignal(analysis.summaries_changed) as blocker:
        analysis.sc.set_session(Session())
    assert blocker.args[0] == []
    assert analysis.summaries == []
    assert not plots.points["fi"]
    assert view.proxy.rowCount() == 0


def test_hidden_cell_curves_draw_when_their_tab_is_raised(
    qtbot: Any, controller: Any, demo_dir: Path
) -> None:
    """Behind another tab the curves wait (an exclusion at 44 cells drew them
    unseen); raising their tab draws the latest summaries."""
    from efex_gui.widgets.main_window import MainWindow

    window = MainWindow(controller)
    qtbot.addWidget(window)
    window.confirm_close = False
    window.show()
    qtbot.waitExposed(window)
    plots = window.cell_analysis_ui["plots"]
    plots_dock = window.cell_analysis_ui["docks"][1]
    window.extraction_ui["docks"][3].raise_()  # the feature plot on top
    qtbot.waitUntil(lambda: plots.visibleRegion().isEmpty())
    drawn: list[str] = []
    plots.drawn.connect(drawn.append)
    open_demo(controller, demo_dir)
    with qtbot.waitSignal(window.cell_analysis.summaries_changed, timeout=300_000):
        run_and_wait(qtbot, window.extraction)
    assert "curves" not in drawn
    with qtbot.waitSignal(
        plots.drawn, timeout=10_000, check_params_cb=lambda n: n == "curves"
    ):
        plots_dock.raise_()
    assert plots._drawn["fi"], "the cells' f-I curves are drawn"
    window.extraction.shutdown()


def _count_summaries(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Record the number of cells of each summary the controller starts."""
    from efex_gui.app import cell_analysis

    real = cell_analysis.summarize_cells
    started: list[int] = []

    def counted(cells: Any, context: Any, *, cancel: Any = None) -> Any:
        started.append(len(cells))
        return real(cells, context, cancel=cancel)

    monkeypatch.setattr(cell_analysis, "summarize_cells", counted)
    return started


def test_results_in_quick_succession_are_summarised_once(
    qtbot: Any, analysis: CellAnalysisController, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Exclusion after exclusion, only the last result is summarised (after a pause):
    a summary started for each rerun made the next rerun share the worker and the
    GIL with it."""

    result = _summarised(qtbot, analysis) and analysis.extraction.result
    calls = _count_summaries(monkeypatch)
    with qtbot.waitSignal(analysis.summaries_changed, timeout=60_000):
        for _ in range(3):
            analysis.extraction.results_changed.emit(result)
    assert len(calls) == 1


def test_shutting_down_stops_the_summary_to_come_and_the_running_one(
    qtbot: Any, analysis: CellAnalysisController, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Closing the window must not leave a summary reading files on the worker
    thread (it outlived its window: tracebacks at the end of the test run)."""
    from efex_gui.app import cell_analysis

    extraction = analysis.extraction
    started = _count_summaries(monkeypatch)
    run_and_wait(qtbot, extraction)  # its summary waits SUMMARY_DELAY_MS
    assert analysis._delay.isActive()
    assert extraction.shutdown()
    qtbot.wait(2 * cell_analysis.SUMMARY_DELAY_MS)
    assert started == []
    assert analysis._cancel.is_set()
