"""The Cell curves dock's f-I and I-V plots: redrawn cell by cell, legend beside them.

The dock redraws only the cells whose curves changed (issue 14): with 44 cells,
recreating every cell's items after each exclusion took longer than the extraction's
rerun; the items of unchanged cells must be kept as they are. Its legend sits beside
the data area: inside the view it covered the curves of the short plots the dock has.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QObject, Signal

from efex_gui.core.analysis.curves import Curve, CurvePoint
from efex_gui.widgets.cell_plots import MAX_LEGEND, CellPlots


class _Selection(QObject):
    selection_changed = Signal(object)


class _Controller(QObject):
    """The controller's surface CellPlots draws from, with curves set by the test."""

    summaries_changed = Signal()
    curve_cells_changed = Signal(object)

    def __init__(self, n_cells: int) -> None:
        super().__init__()
        self.sc = _Selection()
        self.curve_cells: list[str] = []
        rng = np.random.default_rng(0)
        amps = np.linspace(0.05, 0.6, 8)
        self.data = {
            kind: [
                Curve(
                    f"cell{i}",
                    kind,
                    tuple(
                        CurvePoint(float(a), float(rng.normal()), (i, kind, j))
                        for j, a in enumerate(amps)
                    ),
                )
                for i in range(n_cells)
            ]
            for kind in ("fi", "iv_steady", "iv_peak")
        }

    def curves(self, cells: list[str] | None = None) -> dict[str, list[Curve]]:
        return {
            kind: [c for c in curves if cells is None or c.cell in cells]
            for kind, curves in self.data.items()
        }

    def rheobases(self) -> dict[str, float | None]:
        return {c.cell: 0.1 for c in self.data["fi"]}


def _cell_items(plots: CellPlots) -> list[Any]:
    """Return the f-I plot's per-cell items (the mean is drawn above them, z 10)."""
    return [
        item
        for item in plots.fi.getPlotItem().items
        if isinstance(item, (pg.PlotDataItem, pg.ScatterPlotItem))
        and item.zValue() < 10
    ]


def test_one_changed_cell_replaces_only_its_own_items(qtbot: Any) -> None:
    controller = _Controller(12)
    plots = CellPlots(controller)  # type: ignore[arg-type]
    qtbot.addWidget(plots)
    plots.draw_curves()
    before = {id(item) for item in _cell_items(plots)}
    old_points = list(plots.points["fi"])
    changed = controller.data["fi"][3]
    controller.data["fi"][3] = Curve(changed.cell, "fi", changed.points[1:])

    controller.summaries_changed.emit()

    after = _cell_items(plots)
    new = [item for item in after if id(item) not in before]
    # one line and one set of points, for cell3 only; every other item kept
    assert len(new) == 2
    assert len(after) == len(before)
    assert plots.points["fi"][3] is not old_points[3]
    assert all(plots.points["fi"][i] is old_points[i] for i in range(12) if i != 3)
    x, _ = plots.points["fi"][3].getData()
    assert np.allclose(x, changed.x[1:])


def test_cells_left_out_lose_their_items_and_mode_changes_redraw(qtbot: Any) -> None:
    controller = _Controller(4)
    plots = CellPlots(controller)  # type: ignore[arg-type]
    qtbot.addWidget(plots)
    plots.draw_curves()
    controller.curve_cells = ["cell1", "cell2"]
    controller.curve_cells_changed.emit(controller.curve_cells)
    assert len(plots.points["fi"]) == 2
    # two cells: their own line + points
    assert len(_cell_items(plots)) == 2 * 2
    kept = list(plots.points["fi"])
    plots.x_mode.setCurrentIndex(1)  # % of rheobase: every x changes
    assert all(
        new is not old for new, old in zip(plots.points["fi"], kept, strict=True)
    )
    x, _ = plots.points["fi"][0].getData()
    assert np.allclose(x, controller.data["fi"][1].x * 100 / 0.1)


def _shown(qtbot: Any, n_cells: int, width: int, height: int) -> CellPlots:
    plots = CellPlots(_Controller(n_cells))  # type: ignore[arg-type]
    qtbot.addWidget(plots)
    plots.resize(width, height)
    plots.show()
    qtbot.waitExposed(plots)
    plots.draw_curves()
    return plots


def _beside(plots: CellPlots, widget: pg.PlotWidget) -> bool:
    """Whether the legend is whole in the plot item, right of the view, not on it."""
    plot = widget.getPlotItem()
    legend = plots.legends[widget].sceneBoundingRect()
    view = plot.vb.sceneBoundingRect()
    return (
        not legend.intersects(view)
        and legend.left() >= view.right()
        and plot.sceneBoundingRect().contains(legend)
    )


def test_the_legend_stays_beside_the_curves_of_a_short_plot(qtbot: Any) -> None:
    """The cell-curves dock at its default size (SSCx, 4 cells): the legend, at the
    view's top left, covered the curves and its last entry ran off the plot."""
    plots = _shown(qtbot, MAX_LEGEND, 1400, 230)
    for widget in (plots.fi, plots.iv):
        legend = plots.legends[widget]
        assert len(legend.items) == MAX_LEGEND + 1  # every cell, and the mean
        qtbot.waitUntil(lambda w=widget: _beside(plots, w))
    fi = plots.legends[plots.fi]
    assert fi.columnCount > 1, "eleven entries do not fit in one column here"
    plots.resize(1400, 600)
    qtbot.waitUntil(lambda: fi.columnCount == 1 and _beside(plots, plots.fi))
    plots.controller.curve_cells = ["cell1", "cell2"]
    plots.controller.curve_cells_changed.emit(plots.controller.curve_cells)
    assert [label.text for _, label in fi.items] == ["cell1", "cell2", "mean ± s.e.m."]
    labels = [fi.layout.itemAt(row, 1) for row in range(3)]
    assert labels == [label for _, label in fi.items], "no row kept for the others"
    plots.resize(1400, 230)
    qtbot.waitUntil(lambda: _beside(plots, plots.fi))


def test_many_cells_name_only_the_mean_and_no_cell_no_legend(qtbot: Any) -> None:
    plots = _shown(qtbot, MAX_LEGEND + 1, 1400, 230)
    legend = plots.legends[plots.fi]
    assert [label.text for _, label in legend.items] == ["mean ± s.e.m."]
    qtbot.waitUntil(lambda: _beside(plots, plots.fi))
    plots.controller.curve_cells = ["nobody"]
    plots.controller.curve_cells_changed.emit(plots.controller.curve_cells)
    assert legend.items == []
    assert not legend.isVisible()
    assert legend.column.maximumWidth() == 0, "the view gets the width back"


def test_a_cell_drawn_again_keeps_its_place_in_the_legend(qtbot: Any) -> None:
    """Its entry came back last after an exclusion redrew it."""
    controller = _Controller(4)
    plots = CellPlots(controller)  # type: ignore[arg-type]
    qtbot.addWidget(plots)
    plots.draw_curves()
    legend = plots.legends[plots.fi]
    before = [label.text for _sample, label in legend.items]
    assert before == ["cell0", "cell1", "cell2", "cell3", "mean ± s.e.m."]
    changed = controller.data["fi"][1]
    controller.data["fi"][1] = Curve(changed.cell, "fi", changed.points[1:])

    controller.summaries_changed.emit()

    assert [label.text for _sample, label in legend.items] == before
    layout = legend.layout
    shown = [layout.itemAt(row, 1) for row in range(layout.rowCount())]
    assert [label.text for label in shown] == before, "the rows laid out in order"
