"""FeaturePlot and ResultsTable: data in the plot items, selection, exclusion, TSV."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from efex_gui.app.extraction_controller import ExtractionController
from efex_gui.widgets.feature_plot import FeaturePlot
from efex_gui.widgets.results_table import HEADERS, ResultsTable
from tests.gui.extraction_helpers import open_demo, run_and_wait

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path


@pytest.fixture
def extraction(controller: Any, demo_dir: Path, qtbot: Any) -> Iterator[Any]:
    open_demo(controller, demo_dir)
    extraction = ExtractionController(controller)
    yield extraction
    assert extraction.shutdown()


@pytest.fixture
def plot(extraction: ExtractionController, qtbot: Any) -> FeaturePlot:
    widget = FeaturePlot(extraction)
    qtbot.addWidget(widget)
    return widget


def test_points_are_the_sweep_values(
    qtbot: Any, extraction: ExtractionController, plot: FeaturePlot
) -> None:
    result = run_and_wait(qtbot, extraction)
    plot.choose("IDRest", "mean_frequency")
    recordings = [
        (cell.name, rec)
        for cell in result.cells
        for rec in cell.get_recordings_by_protocol_name("IDRest")
    ]
    expected = sorted(
        (name, rec.amp_rel, rec.efeatures["mean_frequency"])
        for name, rec in recordings  # the sweeps a target window holds (as the CLI)
        if not math.isnan(rec.efeatures.get("mean_frequency", math.nan))
    )
    assert sorted((p.cell, p.x, p.y) for p in plot.points) == expected
    for name, item in plot.scatter.items():
        x, y = item.getData()
        assert sorted(zip(x, y, strict=True)) == sorted(
            (p.x, p.y) for p in plot.points if p.cell == name
        )
    # one mark per target, with the numbers of features.json
    entries = {
        stim: next(e for e in v["soma"] if e["feature"] == "mean_frequency")
        for stim, v in result.features.items()
        if stim.startswith("IDRest")
    }
    assert sorted((m.x, m.mean, m.std, m.n) for m in plot.marks) == sorted(
        (float(stim.split("_")[1]), e["val"][0], e["val"][1], e["n"])
        for stim, e in entries.items()
    )
    assert "Relative" in plot.plot.getAxis("bottom").labelText
    assert plot.plot.getAxis("left").labelText == "mean_frequency (Hz)"
    assert all(cell.name in plot.legend.text() for cell in result.cells)


def test_clicking_a_point_selects_its_sweep(
    qtbot: Any, extraction: ExtractionController, plot: FeaturePlot
) -> None:
    run_and_wait(qtbot, extraction)
    plot.choose("IDRest", "Spikecount")
    item = plot.scatter["SimCell2"]
    spot = item.points()[-1]
    point = spot.data()
    with qtbot.waitSignal(extraction.sc.selection_changed) as selected:
        item.sigClicked.emit(item, [spot], None)
    assert selected.args[0] == [point.sweep]
    assert point.sweep.cell == "SimCell2"
    assert point.sweep.protocol == "IDRest"
    x, y = plot.highlight.getData()
    assert list(zip(x, y, strict=True)) == [(point.x, point.y)]


def test_exclude_selected_sweep_updates_plot_without_efel(
    qtbot: Any, extraction: ExtractionController, plot: FeaturePlot
) -> None:
    run_and_wait(qtbot, extraction)
    plot.choose("IDRest", "Spikecount")
    point = plot.points[0]
    plot.select_point(point)
    with qtbot.waitSignal(extraction.results_changed, timeout=60_000):
        qtbot.mouseClick(plot.exclude_button, Qt.MouseButton.LeftButton)
    assert point.sweep not in [p.sweep for p in plot.points]
    assert extraction.result.stats.efel_calls == 0
    key = extraction.sc.exclusion_key(point.sweep)
    assert extraction.sc.session.exclusions.reason(key) == "excluded from the plot"


def test_an_exclusion_redraws_only_the_touched_cell_and_the_targets(
    qtbot: Any, extraction: ExtractionController, plot: FeaturePlot
) -> None:
    """The other cells' points stay drawn (same items): at 44 cells every cell's
    scatter was built again after each exclusion click."""
    result = run_and_wait(qtbot, extraction)
    plot.choose("IDRest", "Spikecount")
    items = dict(plot.scatter)
    marks = list(plot.marks)
    targets = list(plot._target_items)
    point = next(p for p in plot.points if p.cell == "SimCell2")
    plot.select_point(point)
    with qtbot.waitSignal(extraction.results_changed, timeout=60_000):
        qtbot.mouseClick(plot.exclude_button, Qt.MouseButton.LeftButton)
    assert extraction.result is not result
    assert plot.scatter["SimCell1"] is items["SimCell1"]
    assert plot.scatter["SimCell2"] is not items["SimCell2"]
    assert point.sweep not in [p.sweep for p in plot.points]
    x, _y = plot.scatter["SimCell2"].getData()
    assert len(x) == len([p for p in plot.points if p.cell == "SimCell2"])
    assert plot.marks != marks, "the targets' means are drawn again"
    # the same tolerance bands; the bars and squares moved to the new means
    assert plot._target_items == targets
    _x, means = plot._target_items[-1].getData()
    assert list(means) == [m.mean for m in plot.marks]
    # another feature: everything drawn from the new result
    plot.choose("IDRest", "mean_frequency")
    assert plot.scatter["SimCell1"] is not items["SimCell1"]
    assert all(p.sweep != point.sweep for p in plot.points)


def test_absolute_mode_plots_amplitudes_in_na(
    qtbot: Any, extraction: ExtractionController, plot: FeaturePlot
) -> None:
    targets = [
        {
            "efeature": "Spikecount",
            "protocol": "IDRest",
            "amplitude": 0.2,
            "tolerance": 0.05,
        }
    ]
    extraction.set_targets(targets)
    extraction.set_settings(extraction.with_settings(absolute_amplitude=True))
    result = run_and_wait(qtbot, extraction)
    plot.choose("IDRest", "Spikecount")
    amps = sorted(
        r.amp
        for c in result.cells
        for r in c.get_recordings_by_protocol_name("IDRest")
        if "Spikecount" in r.efeatures
    )  # in the target's window
    assert sorted(p.x for p in plot.points) == pytest.approx(amps)
    assert "nA" in plot.plot.getAxis("bottom").labelText
    (mark,) = plot.marks
    assert mark.mean == result.features["IDRest_0.2"]["soma"][0]["val"][0]


def test_results_table_sorts_and_copies_tsv(
    qtbot: Any, extraction: ExtractionController
) -> None:
    table = ResultsTable(extraction)
    qtbot.addWidget(table)
    result = run_and_wait(qtbot, extraction)
    n = sum(len(v["soma"]) for v in result.features.values())
    assert table.proxy.rowCount() == n
    table.view.sortByColumn(HEADERS.index("mean"), Qt.SortOrder.DescendingOrder)
    means = [
        float(table.proxy.index(r, 2).data(Qt.ItemDataRole.UserRole)) for r in range(n)
    ]
    assert means == sorted(means, reverse=True)
    table.view.selectRow(0)
    text = table.copy()
    lines = text.splitlines()
    assert lines[0] == "\t".join(HEADERS)
    assert len(lines) == 2
    stimulus, feature, mean, std, count, unit = lines[1].split("\t")
    entry = next(
        e for e in result.features[stimulus]["soma"] if e["efeature_name"] == feature
    )
    assert float(mean) == entry["val"][0] == max(means)
    assert (float(std), int(count)) == (entry["val"][1], entry["n"])
    assert unit == {
        "Spikecount": "",
        "mean_frequency": "Hz",
        "ISI_CV": "",
        "AP1_amp": "mV",
        "AP_width": "ms",
        "AP_amplitude": "mV",
        "time_to_first_spike": "ms",
        "voltage_base": "mV",
    }.get(entry["feature"], unit)
    assert QApplication.clipboard().text() == text
    table.view.clearSelection()
    assert len(table.to_tsv().splitlines()) == n + 1
    with qtbot.waitSignal(table.row_activated) as activated:
        table.view.doubleClicked.emit(table.proxy.index(0, 0))
    assert activated.args == [
        "IDRest" if stimulus.startswith("IDRest") else "IV",
        feature,
    ]


def test_hidden_views_redraw_when_their_tab_is_raised(
    qtbot: Any, extraction: ExtractionController
) -> None:
    from PySide6.QtWidgets import QDockWidget, QMainWindow

    window = QMainWindow()
    qtbot.addWidget(window)
    plot, table = FeaturePlot(extraction), ResultsTable(extraction)
    docks = []
    for title, widget in (("plot", plot), ("results", table)):
        dock = QDockWidget(title, window)
        dock.setWidget(widget)
        window.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, dock)
        docks.append(dock)
    window.tabifyDockWidget(docks[0], docks[1])
    window.show()
    qtbot.waitExposed(window)
    docks[0].raise_()
    qtbot.waitUntil(lambda: table.visibleRegion().isEmpty())
    run_and_wait(qtbot, extraction)
    assert plot.protocol_box.count() > 0, "the visible plot follows at once"
    assert table.model.rows == [], "the hidden table waits"
    docks[1].raise_()
    qtbot.waitUntil(lambda: bool(table.model.rows))
    assert len(table.model.rows) == sum(
        len(v["soma"]) for v in extraction.result.features.values()
    )
    plot.choose("IDRest", "Spikecount")  # a hidden plot catches up before choosing
    assert plot.feature_box.currentText() == "Spikecount"
