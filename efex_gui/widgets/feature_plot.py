"""FeaturePlot: one feature of one protocol, per sweep, for every cell.

The x axis is the sweep's amplitude relative to its cell's rheobase (%) or, in
absolute mode, its amplitude (nA); the y axis the feature value of the sweep (the value
the export averages). Each cell has its colour and marker; black error bars show the
target's mean ± std (the numbers of ``features.json``) at each target amplitude, over
a light band marking the tolerance window. Clicking a point selects that sweep in the
browser and trace view through the session controller (``select_sweeps``); "Exclude
selected" then excludes it, and the result updates without efel.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import cycle
from typing import TYPE_CHECKING, Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QSignalBlocker
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
)

from efex_gui.app.extraction_controller import ExtractionController
from efex_gui.core.features import feature_unit
from efex_gui.core.numbers import finite_number
from efex_gui.core.session.dataset import SweepKey
from efex_gui.core.targets.names import efel_name, protocol_features
from efex_gui.widgets.controller_view import ControllerView
from efex_gui.widgets.deferred import RefreshWhenShown
from efex_gui.widgets.elided_label import ElidedLabel
from efex_gui.widgets.plot_style import COLORS, SYMBOL_TEXT, SYMBOLS, style_plot

if TYPE_CHECKING:
    from efex_gui.core.extraction.incremental import ExtractionResult


#: up to this many cells the legend line names them all (more: in its tooltip)
MAX_LEGEND_CELLS = 12
LEGEND_TIP = (
    "Marker and colour of each cell; black squares with bars: the target's mean ± std"
)


@dataclass(frozen=True)
class PlotPoint:
    """One plotted sweep."""

    cell: str
    x: float
    y: float
    sweep: SweepKey | None
    name: str


@dataclass(frozen=True)
class TargetMark:
    """One target's mean ± std at its amplitude."""

    x: float
    mean: float
    std: float
    n: int
    tolerance: float


@dataclass(frozen=True)
class _CellPoints:
    """One cell's drawn points: the cell object they came from and their item."""

    cell: Any
    style: tuple[str, str]
    points: list[PlotPoint]
    item: pg.ScatterPlotItem | None


class FeaturePlot(RefreshWhenShown, ControllerView[ExtractionController]):
    """Feature value per sweep against amplitude, with the targets' mean ± std.

    The controller is the source of the results; its session controller receives
    the selection.
    """

    def _build(self) -> None:
        self.protocol_box = QComboBox(self)
        self.protocol_box.setToolTip("Protocol whose targeted features are plotted")
        self.feature_box = QComboBox(self)
        self.feature_box.setToolTip(
            "Feature (output name) plotted: one point per sweep, black squares the "
            "target mean ± std of features.json"
        )
        self.feature_box.setMinimumContentsLength(22)
        self.protocol_box.currentTextChanged.connect(self._fill_features)
        self.feature_box.currentTextChanged.connect(self.redraw)
        self.exclude_button = QPushButton("Exclude selected sweep", self)
        self.exclude_button.setToolTip(
            "Exclude (or include again) the sweep selected in the browser"
        )
        self.exclude_button.clicked.connect(
            lambda: self.controller.sc.toggle_selection_excluded(
                "excluded from the plot"
            )
        )
        self.status = ElidedLabel(parent=self)
        self.plot = pg.PlotWidget(self)
        style_plot(self.plot)
        #: the legend: one coloured marker per cell, above the plot (never on data)
        self.legend = QLabel(self)
        self.legend.setWordWrap(True)
        self.legend.setToolTip(LEGEND_TIP)
        self.scatter: dict[str, pg.ScatterPlotItem] = {}
        self.points: list[PlotPoint] = []
        self.marks: list[TargetMark] = []
        #: cell name → its drawn points (kept while the cell object is the same)
        self._drawn: dict[str, _CellPoints] = {}
        self._target_items: list[Any] = []
        #: (protocol, feature, absolute) of what is drawn
        self._view: tuple[str, str, bool] | None = None
        self.highlight = pg.ScatterPlotItem(
            size=16, pen=pg.mkPen("#d62728", width=2), brush=None, symbol="o"
        )
        self.highlight.setZValue(10)  # above every cell's points
        bar = QHBoxLayout()
        bar.addWidget(QLabel("Protocol", self))
        bar.addWidget(self.protocol_box)
        bar.addWidget(QLabel("Feature", self))
        bar.addWidget(self.feature_box)
        bar.addStretch(1)
        bar.addWidget(self.exclude_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(bar)
        layout.addWidget(self.legend)
        layout.addWidget(self.plot, 1)
        layout.addWidget(self.status)
        self.controller.results_changed.connect(self.refresh)
        self.controller.sc.selection_changed.connect(self._show_selection)
        self.refresh()

    # --- choices ------------------------------------------------------------------
    def _targets(self) -> list[dict[str, Any]]:
        result = self.controller.result
        return [] if result is None else result.targets

    def refresh(self, *_args: Any) -> None:
        """Refill the protocol and feature choices (kept if still there), redraw.

        Waits until the plot is shown when it is hidden behind another dock.
        """
        if self.defer_refresh():
            return
        features = protocol_features(self._targets())
        current = self.protocol_box.currentText()
        blocker = QSignalBlocker(self.protocol_box)
        self.protocol_box.clear()
        self.protocol_box.addItems(list(features))
        if current in features:
            self.protocol_box.setCurrentText(current)
        del blocker
        self._fill_features()

    def _fill_features(self, *_args: Any) -> None:
        names = protocol_features(self._targets()).get(
            self.protocol_box.currentText(), []
        )
        current = self.feature_box.currentText()
        blocker = QSignalBlocker(self.feature_box)
        self.feature_box.clear()
        self.feature_box.addItems(names)
        if current in names:
            self.feature_box.setCurrentText(current)
        del blocker
        self.redraw()

    def choose(self, protocol: str, feature: str) -> None:
        """Show ``feature`` of ``protocol``."""
        self.flush_refresh()
        self.protocol_box.setCurrentText(protocol)
        self.feature_box.setCurrentText(feature)

    # --- drawing ------------------------------------------------------------------
    def _set_legend(self, entries: list[str]) -> None:
        """Show the legend in one line above the plot.

        With many cells the full legend is the tooltip (44 cells would take four
        lines from the plot).
        """
        text = "&nbsp;&nbsp; ".join(entries)
        if len(entries) - 1 <= MAX_LEGEND_CELLS:
            self.legend.setText(text)
            self.legend.setToolTip(LEGEND_TIP)
            return
        self.legend.setText(
            f"{entries[0]}&nbsp;&nbsp; {len(entries) - 1} cells: hover here for the "
            "legend, or a point for its cell"
        )
        self.legend.setToolTip(text.replace("&nbsp;&nbsp; ", "<br>"))

    def redraw(self, *_args: Any) -> None:
        """Draw the chosen feature from the current result.

        When only the result changed (same protocol, feature and mode), the points of
        the cells the extraction reused as they were (the same objects) stay drawn:
        after an exclusion only the touched cell and the targets are drawn again.
        """
        result = self.controller.result
        protocol = self.protocol_box.currentText()
        feature = self.feature_box.currentText()
        if result is None or not protocol or not feature:
            self._clear()
            self.status.setText(
                "Nothing to plot yet: press Extract (toolbar), then choose a protocol "
                "and a feature."
                if result is None
                else "The last run extracted no feature: check the targets "
                "(Targets tab)."
            )
            return
        absolute = bool(result.settings.get("absolute_amplitude"))
        view = (protocol, feature, absolute)
        if view != self._view:
            self._clear()
            self._view = view
            self._label_axes(result, protocol, feature, absolute)
        self._draw_targets(result, protocol, feature, absolute)
        self._draw_cells(result, protocol, feature, absolute)
        self._show_selection(self.controller.sc.selection)
        self.status.setText(
            f"{len(self.points)} sweeps of {len(self.scatter)} cells; black: target "
            "mean ± std (n in the tooltip). Click a point to select its sweep."
        )

    def _clear(self) -> None:
        self.plot.clear()
        self.legend.clear()
        self.plot.setLabel("left", "")
        self.plot.setLabel("bottom", "")
        self.scatter, self.points, self.marks = {}, [], []
        self._drawn, self._target_items, self._view = {}, [], None
        self.plot.addItem(self.highlight)

    def _label_axes(
        self, result: ExtractionResult, protocol: str, feature: str, absolute: bool
    ) -> None:
        self.plot.setLabel(
            "bottom",
            "Step amplitude (nA)"
            if absolute
            else "Relative step amplitude (% of rheobase)",
        )
        unit = feature_unit(efel_name(result.targets, protocol, feature))
        self.plot.setLabel("left", f"{feature} ({unit})" if unit else feature)

    def _draw_cells(
        self, result: ExtractionResult, protocol: str, feature: str, absolute: bool
    ) -> None:
        """Draw each cell's points; keep those drawn from the same cell object."""
        styles = zip(cycle(COLORS), cycle(SYMBOLS))
        legend = ['<span style="color:black">■</span> target mean ± std']
        drawn: dict[str, _CellPoints] = {}
        for cell, (color, symbol) in zip(result.cells, styles, strict=False):
            known = self._drawn.pop(cell.name, None)
            if (
                known is not None
                and known.cell is cell
                and known.style
                == (
                    color,
                    symbol,
                )
            ):
                drawn[cell.name] = known
                continue
            if known is not None and known.item is not None:
                self.plot.removeItem(known.item)
            drawn[cell.name] = self._draw_cell(
                result, cell, protocol, feature, absolute, (color, symbol)
            )
        for gone in self._drawn.values():
            if gone.item is not None:
                self.plot.removeItem(gone.item)
        self._drawn = drawn
        self.points = [point for cell in drawn.values() for point in cell.points]
        self.scatter = {
            name: cell.item for name, cell in drawn.items() if cell.item is not None
        }
        for name, cell in drawn.items():
            if cell.item is not None:
                color, symbol = cell.style
                legend.append(
                    f'<span style="color:{color}">{SYMBOL_TEXT[symbol]}</span> {name}'
                )
        self._set_legend(legend)

    def _draw_cell(
        self,
        result: ExtractionResult,
        cell: Any,
        protocol: str,
        feature: str,
        absolute: bool,
        style: tuple[str, str],
    ) -> _CellPoints:
        points = []
        for recording in cell.get_recordings_by_protocol_name(protocol):
            x = finite_number(
                recording.amp if absolute else getattr(recording, "amp_rel", None)
            )
            y = finite_number(recording.efeatures.get(feature))
            if x is None or y is None:
                continue
            ref = result.sweep_ref(recording)
            sweep = (
                None
                if ref is None
                else SweepKey(ref.cell, ref.protocol, ref.entry, ref.index)
            )
            points.append(PlotPoint(cell.name, x, y, sweep, recording.name))
        if not points:
            return _CellPoints(cell, style, points, None)
        color, symbol = style
        item = pg.ScatterPlotItem(
            x=[p.x for p in points],
            y=[p.y for p in points],
            data=points,
            symbol=symbol,
            brush=pg.mkBrush(color),
            pen=pg.mkPen(color),
            size=9,
            name=cell.name,
            hoverable=True,
            tip=self._tip,
        )
        item.sigClicked.connect(self._on_clicked)
        self.plot.addItem(item)
        return _CellPoints(cell, style, points, item)

    def _target_marks(
        self, result: ExtractionResult, protocol: str, feature: str, absolute: bool
    ) -> list[TargetMark]:
        marks = []
        for prot in result.protocols:
            if prot.name != protocol:
                continue
            for target in prot.feature_targets:
                if target.efeature_name != feature or not target.sample_size:
                    continue
                x = finite_number(prot.amplitude)
                if absolute:
                    x = finite_number(np.nanmean([r.amp for r in prot.recordings]))
                if x is None:
                    continue
                marks.append(
                    TargetMark(
                        x,
                        float(target.mean),
                        float(target.std),
                        target.sample_size,
                        float(prot.tolerance),
                    )
                )
        return marks

    def _draw_targets(
        self, result: ExtractionResult, protocol: str, feature: str, absolute: bool
    ) -> None:
        """Draw the targets' mean ± std over their tolerance bands.

        The bands stay while the windows are the same; new means and stds only move
        the bars and squares.
        """
        marks = self._target_marks(result, protocol, feature, absolute)
        windows = [(m.x, m.tolerance) for m in marks]
        if marks == self.marks and (self._target_items or not marks):
            return
        same_bands = windows == [(m.x, m.tolerance) for m in self.marks]
        self.marks = marks
        xs = np.array([m.x for m in marks])
        means = np.array([m.mean for m in marks])
        heights = 2 * np.array([m.std for m in marks])
        if same_bands and len(self._target_items) == len(marks) + 2:
            bars, squares = self._target_items[-2:]
            bars.setData(x=xs, y=means, height=heights)
            squares.setData(x=xs, y=means, data=list(marks))
            return
        for item in self._target_items:
            self.plot.removeItem(item)
        self._target_items = []
        if not marks:
            return
        for low, high in ((x - tol, x + tol) for x, tol in windows):
            band = pg.LinearRegionItem(
                (low, high),
                movable=False,
                brush=pg.mkBrush(0, 0, 0, 18),
                pen=pg.mkPen(None),
            )
            self._add_target_item(band)
        self._add_target_item(
            pg.ErrorBarItem(
                x=xs, y=means, height=heights, beam=0.0, pen=pg.mkPen("k", width=2)
            )
        )
        self._add_target_item(
            pg.ScatterPlotItem(
                x=xs,
                y=means,
                symbol="s",
                size=11,
                brush=pg.mkBrush("k"),
                name="target mean ± std",
                hoverable=True,
                data=list(marks),
                tip=self._mark_tip,
            )
        )

    def _add_target_item(self, item: Any) -> None:
        self.plot.addItem(item)
        self._target_items.append(item)

    @staticmethod
    def _tip(x: float, y: float, data: Any) -> str:
        if isinstance(data, PlotPoint):
            return f"{data.cell} {data.name}\nx = {x:.4g}\nvalue = {y:.4g}"
        return f"x = {x:.4g}, y = {y:.4g}"

    @staticmethod
    def _mark_tip(x: float, y: float, data: Any) -> str:
        if isinstance(data, TargetMark):
            return f"target {x:g}: {data.mean:.4g} ± {data.std:.4g} (n = {data.n})"
        return f"{x:.4g}: {y:.4g}"

    # --- selection ----------------------------------------------------------------
    def _on_clicked(self, _item: Any, spots: Any, *_args: Any) -> None:
        for spot in spots:
            point = spot.data()
            if isinstance(point, PlotPoint):
                self.select_point(point)
                return

    def select_point(self, point: PlotPoint) -> None:
        """Select ``point``'s sweep in the browser and trace view."""
        if point.sweep is not None:
            self.controller.sc.select_sweeps([point.sweep])

    def _show_selection(self, sweeps: Any) -> None:
        chosen = set(sweeps or [])
        picked = [p for p in self.points if p.sweep in chosen]
        self.highlight.setData(x=[p.x for p in picked], y=[p.y for p in picked])
