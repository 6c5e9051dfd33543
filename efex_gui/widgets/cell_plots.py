"""The Cell curves dock: f-I and I-V curves, phase plot and first spikes (pyqtgraph).

f-I and I-V: one colour per cell (the cells selected in the Cells table, else every
cell) and, with two cells or more, the mean ± s.e.m. across cells in black; x in nA or
in % of each cell's rheobase. Click a point to select its sweep. Phase plot and first
spikes: the sweeps selected in the browser, every one of them drawn; the first
spikes are aligned on their onset with the threshold marked, and averaged in black.
Everything drawn is computed by :mod:`efex_gui.core.analysis`.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QTabWidget,
    QToolButton,
    QVBoxLayout,
)

from efex_gui.app.cell_analysis import CellAnalysisController
from efex_gui.core.analysis.curves import Curve, mean_curve
from efex_gui.core.analysis.waveforms import (
    aligned_first_spike,
    average_spike,
    phase_plot,
)
from efex_gui.widgets.controller_view import ControllerView
from efex_gui.widgets.deferred import RefreshWhenShown
from efex_gui.widgets.figure_export import add_export_menu, figure_actions

#: curves of up to this many cells get a legend (more: hover a point for its cell)
MAX_LEGEND = 10
MEAN_PEN = pg.mkPen((0, 0, 0), width=3)
X_MODES = {"nA": ("Current", "nA", 0.02), "%": ("Current", "% rheobase", 10.0)}


def cell_color(position: int, count: int) -> Any:
    """Pick a distinct colour per cell."""
    return pg.intColor(position, hues=max(count, 2), values=1, maxValue=200)


class SideLegend(pg.LegendItem):  # type: ignore[misc]
    """A legend in a column of its own right of the data area: never over a curve.

    The f-I and I-V plots are short and wide in the dock, so a legend inside the
    view covered the curves wherever it was put; beside the view it takes width,
    which the dock has. The column is as wide as the legend (none when it is
    empty) and runs from the top of the view to the bottom axis; when the entries
    do not fit in its height they are set in more columns. It is part of the plot
    item, so an exported figure has it too.
    """

    #: pixels between the view (or the right axis) and the legend
    GAP = 8

    def __init__(self, plot: pg.PlotItem, label_size: str = "8pt") -> None:
        super().__init__(offset=None, labelTextSize=label_size)
        self.layout.setContentsMargins(0, 0, 0, 0)  # the first row level with the view
        #: the legend's column in the plot's layout (view row and bottom axis row)
        self.column = pg.GraphicsWidget()
        plot.layout.addItem(self.column, 2, 3, 2, 1)
        self.setParentItem(self.column)
        self.anchor(itemPos=(0, 0), parentPos=(0, 0), offset=(self.GAP, 0))
        plot.legend = self  # the plot adds the items drawn with a name
        #: an entry was removed: its place in the layout is empty until arranged
        self._holes = False
        self.column.geometryChanged.connect(self.fit)
        self.fit()

    def addItem(self, item: Any, name: str) -> None:
        """Add an entry (see ``pg.LegendItem.addItem``) and fit the column."""
        super().addItem(item, name)
        self.fit()

    def removeItem(self, item: Any) -> None:
        """Remove an entry (see ``pg.LegendItem.removeItem``) and fit the column."""
        super().removeItem(item)
        self._holes = True
        self.fit()

    def order(self, names: list[str]) -> None:
        """Put the entries in the order of ``names`` (the others after, as they are).

        A cell drawn again after an exclusion comes back last: its entry goes back
        to its place.
        """
        rank = {name: position for position, name in enumerate(names)}
        ordered = sorted(self.items, key=lambda item: rank.get(item[1].text, len(rank)))
        if ordered != self.items:
            self.items[:] = ordered
            self._arrange(self.columnCount)

    def fit(self) -> None:
        """Lay the entries out in as few columns as the height allows."""
        count = len(self.items)
        self.setVisible(count > 0)
        if count:
            row = max(max(s.height(), label.height()) for s, label in self.items)
            height = self.column.height()  # 0 until the plot is laid out
            fit_rows = max(1, int(height // max(row, 1.0))) if height > 0 else count
            columns = math.ceil(count / fit_rows)
            if columns != self.columnCount or self._holes:
                self._arrange(columns)
        width = self.width() + self.GAP if count else 0.0
        self.column.setMinimumWidth(width)
        self.column.setMaximumWidth(width)

    def _arrange(self, columns: int) -> None:
        """Set the entries in ``columns`` columns, in order (no hole left)."""
        self.columnCount = columns
        self.rowCount = math.ceil(len(self.items) / columns)
        for index in reversed(range(self.layout.count())):
            self.layout.removeAt(index)
        for sample, label in self.items:
            self._addItemToLayout(sample, label)
        self._holes = False
        self.updateSize()

    def mouseDragEvent(self, event: Any) -> None:
        """Stay in the column (pyqtgraph's legend is dragged about by default)."""
        event.ignore()

    def hoverEvent(self, event: Any) -> None:
        """Offer no drag (see :meth:`mouseDragEvent`)."""


def _plot(title: str, x: tuple[str, str], y: tuple[str, str]) -> pg.PlotWidget:
    widget = pg.PlotWidget(background="w")
    item = widget.getPlotItem()
    item.setTitle(title)
    item.setLabel("bottom", x[0], units=x[1])
    item.setLabel("left", y[0], units=y[1])
    for axis in ("bottom", "left"):
        item.getAxis(axis).enableAutoSIPrefix(False)
    item.showGrid(x=True, y=True, alpha=0.15)
    return widget


class CellPlots(RefreshWhenShown, ControllerView[CellAnalysisController]):
    """Four tabs: f-I, I-V, phase plot, first spikes."""

    #: the plots were redrawn (name of the tab)
    drawn = Signal(str)

    def _build(self) -> None:
        self.x_mode = QComboBox(self)
        self.x_mode.addItem("Current in nA", "nA")
        self.x_mode.addItem("Current in % of rheobase", "%")
        self.x_mode.setToolTip("x axis of the f-I and I-V curves")
        self.x_mode.currentIndexChanged.connect(self.draw_curves)
        self.note = QLabel(self)
        self.tabs = QTabWidget(self)
        self.fi = _plot("f-I", ("Current", "nA"), ("Rate", "Hz"))
        self.iv = _plot("I-V", ("Current", "nA"), ("Voltage", "mV"))
        self.phase = _plot("Phase plot", ("V", "mV"), ("dV/dt", "mV/ms"))
        self.spikes = _plot("First spikes", ("Time from onset", "ms"),
                            ("Voltage", "mV"))  # fmt: skip
        self.figure_button = QToolButton(self)
        self.figure_button.setText("Figure")
        self.figure_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.figure_button.setToolTip("Export or copy the shown plot")
        for name, widget in (("f-I", self.fi), ("I-V", self.iv),
                             ("Phase plot", self.phase),
                             ("First spikes", self.spikes)):  # fmt: skip
            self.tabs.addTab(widget, name)
            add_export_menu(self, widget.getPlotItem(), self._provenance,
                            name.replace(" ", "_").lower())  # fmt: skip
        self.tabs.currentChanged.connect(self._update_figure_menu)
        header = QHBoxLayout()
        header.addWidget(self.x_mode)
        header.addWidget(self.note, 1)
        header.addWidget(self.figure_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(header)
        layout.addWidget(self.tabs)
        # beside the data, not over it (the dock's plots are short and wide)
        self.legends = {w: SideLegend(w.getPlotItem()) for w in (self.fi, self.iv)}
        self.points: dict[str, list[pg.ScatterPlotItem]] = {"fi": [], "iv": []}
        #: per plot: {cell: (what was drawn, its items)}, and the mean's items
        self._drawn: dict[str, dict[str, tuple[Any, list[Any]]]] = {}
        self._mean_items: dict[str, list[Any]] = {}
        self.sweep_counts = {"phase": 0, "spikes": 0}
        self._sweeps_timer = QTimer(self, singleShot=True, interval=30)
        self._sweeps_timer.timeout.connect(self._sweeps_changed)
        self.controller.summaries_changed.connect(self._curves_changed)
        self.controller.curve_cells_changed.connect(self._curves_changed)
        self.controller.sc.selection_changed.connect(self._sweeps_timer.start)
        self._update_figure_menu()

    # --- figure -----------------------------------------------------------------------
    def current_plot(self) -> pg.PlotItem:
        """Return the plot item of the shown tab."""
        widget: Any = self.tabs.currentWidget()  # every tab is a pg.PlotWidget
        item: pg.PlotItem = widget.getPlotItem()
        return item

    def _provenance(self) -> dict[str, Any]:
        return {
            "plot": self.tabs.tabText(self.tabs.currentIndex()),
            "cells": self.controller.curve_cells or "all",
            "sweeps": [
                list(map(str, (s.cell, s.protocol, s.entry, s.index)))
                for s in self.controller.sc.selection
            ],
            "x_axis": self.x_mode.currentData(),
            "measure_protocols": self.controller.protocols.to_dict(),
            "efel_settings": self.controller.context().efel_settings,
        }

    def _update_figure_menu(self, *_args: Any) -> None:
        for action in self.figure_button.actions():
            self.figure_button.removeAction(action)
        name = self.tabs.tabText(self.tabs.currentIndex()).replace(" ", "_").lower()
        for action in figure_actions(self, self.current_plot(), self._provenance,
                                     name):  # fmt: skip
            self.figure_button.addAction(action)

    # --- drawing when shown -----------------------------------------------------------
    def refresh(self) -> None:
        """Draw the curves and the selected sweeps (when the dock is raised again)."""
        self.draw_curves()
        self.draw_sweeps()

    def _curves_changed(self, *_args: Any) -> None:
        if not self.defer_refresh():
            self.draw_curves()

    def _sweeps_changed(self) -> None:
        if not self.defer_refresh():
            self.draw_sweeps()

    # --- curves -----------------------------------------------------------------------
    def draw_curves(self, *_args: Any) -> None:
        """Redraw the f-I and I-V curves of the chosen cells."""
        cells = self.controller.curve_cells or None
        curves = self.controller.curves(cells)
        relative = self.x_mode.currentData() == "%"
        rheobases = self.controller.rheobases() if relative else None
        label, unit, width = X_MODES["%" if relative else "nA"]
        for widget in (self.fi, self.iv):
            widget.getPlotItem().setLabel("bottom", label, units=unit)
        self._draw_family(self.fi, "fi", curves["fi"], rheobases, width)
        self._draw_family(self.iv, "iv", curves["iv_steady"], rheobases, width,
                          extra=curves["iv_peak"])  # fmt: skip
        for widget, kind in ((self.fi, "fi"), (self.iv, "iv_steady")):
            self.legends[widget].order([curve.cell for curve in curves[kind]])
        count = len(curves["fi"])
        crowded = count > MAX_LEGEND
        self.note.setText(
            f"{count} cell{'s' * (count != 1)}"
            + ("; hover a point for its cell" if crowded else "")
            + ("; black: mean ± s.e.m." if count > 1 else "")
        )
        self.drawn.emit("curves")

    def _x(self, curve: Curve, rheobases: dict[str, float | None] | None) -> Any:
        if rheobases is None:
            return curve.x
        rheobase = rheobases.get(curve.cell)
        return curve.x * 100.0 / rheobase if rheobase else None

    def _draw_family(
        self,
        widget: pg.PlotWidget,
        key: str,
        curves: list[Curve],
        rheobases: dict[str, float | None] | None,
        width: float,
        extra: list[Curve] | None = None,
    ) -> None:
        """Draw one plot's curves, keeping the items of the cells that did not change.

        An exclusion changes one cell: its items are replaced, the others stay (with
        44 cells, recreating every item took longer than the rerun itself).
        """
        plot = widget.getPlotItem()
        named = len(curves) <= MAX_LEGEND
        kept = self._drawn.setdefault(key, {})
        wanted: dict[str, tuple[Any, list[Any]]] = {}
        for position, curve in enumerate(curves):
            peak = extra[position] if extra is not None else None
            rheobase = None if rheobases is None else rheobases.get(curve.cell)
            signature = (curve, peak, position, len(curves), rheobases is None,
                         rheobase)  # fmt: skip
            old = kept.pop(curve.cell, None)
            if old is not None and old[0] == signature:
                wanted[curve.cell] = old
                continue
            if old is not None:
                self._remove_items(plot, widget, old[1])
            items = self._draw_cell(plot, key, curve, peak, rheobases, position,
                                    len(curves), named)  # fmt: skip
            wanted[curve.cell] = (signature, items)
        for _signature, items in kept.values():  # cells no longer shown
            self._remove_items(plot, widget, items)
        self._drawn[key] = wanted
        self.points[key] = [
            item
            for _signature, items in wanted.values()
            for item in items
            if isinstance(item, pg.ScatterPlotItem)
        ]
        for item in self._mean_items.pop(key, []):
            self._remove_items(plot, widget, [item])
        if len(curves) > 1:
            self._mean_items[key] = self._draw_mean(plot, curves, rheobases, width)

    def _remove_items(
        self, plot: pg.PlotItem, widget: pg.PlotWidget, items: list[Any]
    ) -> None:
        for item in items:
            self.legends[widget].removeItem(item)
            plot.removeItem(item)

    def _draw_cell(
        self,
        plot: pg.PlotItem,
        key: str,
        curve: Curve,
        peak: Curve | None,
        rheobases: dict[str, float | None] | None,
        position: int,
        count: int,
        named: bool,
    ) -> list[Any]:
        """Draw one cell's curve (and its peak curve): the items drawn."""
        items: list[Any] = []
        color = cell_color(position, count)
        if not named:  # many cells: lighter, so the mean stays visible
            color.setAlpha(110)
        x = self._x(curve, rheobases)
        if x is None or not len(x):
            return items
        items.append(plot.plot(x, curve.y, pen=pg.mkPen(color, width=1.5),
                               name=curve.cell if named else None))  # fmt: skip
        items.append(self._add_points(plot, curve, x, color, filled=True))
        if peak is not None:
            px = self._x(peak, rheobases)
            if px is not None and len(px):
                pen = pg.mkPen(color, width=1, style=Qt.PenStyle.DashLine)
                items.append(plot.plot(px, peak.y, pen=pen))
                items.append(self._add_points(plot, peak, px, color, filled=False))
        return items

    def _add_points(
        self,
        plot: pg.PlotItem,
        curve: Curve,
        x: Any,
        color: Any,
        filled: bool,
    ) -> pg.ScatterPlotItem:
        kind = {"fi": "rate", "iv_steady": "steady state", "iv_peak": "peak"}
        data = [(curve.cell, kind[curve.kind], p.recording) for p in curve.points]
        points = pg.ScatterPlotItem(
            x,
            curve.y,
            data=data,
            size=7,
            pen=pg.mkPen(color),
            brush=pg.mkBrush(color) if filled else pg.mkBrush(255, 255, 255),
            hoverable=True,
            tip=lambda x, y, data: f"{data[0]} ({data[1]}): {x:.4g}, {y:.4g}",
        )
        points.sigClicked.connect(self._on_point_clicked)
        plot.addItem(points)
        return points

    def _draw_mean(
        self,
        plot: pg.PlotItem,
        curves: list[Curve],
        rheobases: dict[str, float | None] | None,
        width: float,
    ) -> list[Any]:
        mean = mean_curve(curves, width, rheobases)
        shared = mean.n >= 2  # a bin with one cell has no mean across cells
        if not np.any(shared):
            return []
        x, y, sem = mean.x[shared], mean.mean[shared], mean.sem[shared]
        line = plot.plot(x, y, pen=MEAN_PEN, name="mean ± s.e.m.")
        bars = pg.ErrorBarItem(
            x=x, y=y, height=2 * sem, beam=0, pen=pg.mkPen((0, 0, 0), width=1.5)
        )
        plot.addItem(bars)
        for item in (line, bars):  # above the cells' curves
            item.setZValue(10)
        return [line, bars]

    def _on_point_clicked(self, _item: Any, points: Any, *_args: Any) -> None:
        recordings = [p.data()[2] for p in points[:1]]
        self.controller.select_recordings(recordings)

    # --- sweeps -----------------------------------------------------------------------
    def selected_recordings(self) -> list[Any]:
        """Return the recordings of the sweeps selected in the browser."""
        out = []
        for sweep in self.controller.sc.selection:
            for recording in self.controller.sc.recordings_for(sweep):
                if recording is not None and recording.voltage is not None:
                    out.append(recording)
        return out

    def draw_sweeps(self) -> None:
        """Redraw the phase plot and the first spikes of the selected sweeps."""
        recordings = self.selected_recordings()
        self._draw_phase(recordings)
        self._draw_spikes(recordings)
        self.drawn.emit("sweeps")

    def _draw_phase(self, recordings: list[Any]) -> None:
        plot = self.phase.getPlotItem()
        plot.clear()
        drawn = 0
        for position, recording in enumerate(recordings):
            data = phase_plot(recording)
            if data is None:
                continue
            color = cell_color(position, len(recordings))
            plot.plot(data.voltage_mv, data.dvdt_mv_per_ms, pen=pg.mkPen(color))
            drawn += 1
        self.sweep_counts["phase"] = drawn
        plot.setTitle(f"Phase plot of {drawn} selected sweep{'s' * (drawn != 1)}"
                      " (stimulus window)")  # fmt: skip

    def _draw_spikes(self, recordings: list[Any]) -> None:
        plot = self.spikes.getPlotItem()
        plot.clear()
        context = self.controller.context()
        spikes = [s for s in (aligned_first_spike(r, context) for r in recordings)
                  if s is not None]  # fmt: skip
        for position, spike in enumerate(spikes):
            color = cell_color(position, len(spikes))
            plot.plot(spike.time_ms, spike.voltage_mv, pen=pg.mkPen(color))
        if spikes:
            plot.addItem(
                pg.ScatterPlotItem(
                    np.zeros(len(spikes)),
                    [s.threshold_mv for s in spikes],
                    size=8,
                    symbol="x",
                    pen=pg.mkPen((200, 0, 0), width=2),
                )
            )
        mean = average_spike(spikes)
        if mean is not None and len(spikes) > 1:
            plot.plot(mean.time_ms, mean.voltage_mv, pen=MEAN_PEN)
        if mean is not None:
            plot.addItem(
                pg.InfiniteLine(
                    mean.threshold_mv,
                    angle=0,
                    pen=pg.mkPen((200, 0, 0), style=Qt.PenStyle.DashLine),
                    label=f"threshold {mean.threshold_mv:.1f} mV",
                    labelOpts={"position": 0.85, "color": (200, 0, 0)},
                )
            )
        self.sweep_counts["spikes"] = len(spikes)
        without = len(recordings) - len(spikes)
        plot.setTitle(
            f"First spike of {len(spikes)} sweep{'s' * (len(spikes) != 1)}"
            + (f" ({without} without a spike)" if without else "")
            + ("; black: average" if len(spikes) > 1 else "")
        )
