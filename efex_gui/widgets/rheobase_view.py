"""RheobaseView: per cell, spike count against amplitude, and each strategy's rheobase.

Left, a table with one row per cell: the rheobase used (the chosen strategy's, or the
user's override) and the value each of the core's strategies would give, side by side.
Right, the selected cell's sweeps of the rheobase protocols (spike count against step
amplitude, sweeps without spikes as open circles at 0: the strategies do not see
them), a vertical line per strategy and a thick one at the rheobase used; below, the
override box. Numbers come from :meth:`ExtractionController.rheobase_rows`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pyqtgraph as pg
from PySide6.QtCore import QSignalBlocker, Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDoubleSpinBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from efex_gui.app.extraction_controller import ExtractionController
from efex_gui.core.rheobase.strategies import STRATEGIES
from efex_gui.widgets.controller_view import ControllerView
from efex_gui.widgets.deferred import RefreshWhenShown
from efex_gui.widgets.plot_style import TEXT_COLOR, style_plot

if TYPE_CHECKING:
    from efex_gui.core.rheobase.review import RheobaseRow

STRATEGY_COLORS = {
    "absolute": "#1f77b4",
    "flush": "#2ca02c",
    "majority": "#9467bd",
    "interpolation": "#8c564b",
}
USED_COLOR = "#d62728"
STRATEGY_TIPS = {
    "absolute": "smallest amplitude with at least spike_threshold spikes",
    "flush": "first spiking amplitude followed by flush_length spiking ones",
    "majority": "centre of the first amplitude bin where most sweeps spike",
    "interpolation": "amplitude at one spike on a linear fit from the last silent "
    "sweep (efel 5 gives silent sweeps no count: rarely found)",
}


def _fmt(value: Any) -> str:
    if value is None:
        return "—"
    try:
        return f"{float(value):.4f}"
    except (TypeError, ValueError):
        return str(value)


class RheobaseView(RefreshWhenShown, ControllerView[ExtractionController]):
    """Review and override the rheobase of each cell.

    The controller is the source of the rheobase rows and receives the overrides.
    """

    def _build(self) -> None:
        self.rows: list[RheobaseRow] = []
        headers = ["Cell", "Used (nA)", *STRATEGIES, "Override (nA)"]
        self.table = QTableWidget(0, len(headers), self)
        self.table.setHorizontalHeaderLabels(headers)
        tips = [
            "Cell name",
            "The rheobase the extraction uses (nA): the chosen "
            "strategy's, or your override",
            *(
                f"Rheobase (nA) of the {name} strategy: {STRATEGY_TIPS[name]}"
                for name in STRATEGIES
            ),
            "Your value for this cell (nA), saved in the session",
        ]
        for column, tip in enumerate(tips):
            header = self.table.horizontalHeaderItem(column)
            assert header is not None  # set by setHorizontalHeaderLabels
            header.setToolTip(tip)
        self.table.setToolTip("Select a cell to plot its spike counts")
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(
            QHeaderView.ResizeMode.ResizeToContents
        )
        self.table.verticalHeader().setVisible(False)
        self.table.itemSelectionChanged.connect(self._draw_selected)
        self.plot = pg.PlotWidget(self)
        style_plot(self.plot)
        self.plot.setLabel("bottom", "Step amplitude (nA)")
        self.plot.setLabel("left", "Spike count")
        self.points_item: pg.ScatterPlotItem | None = None
        self.lines: dict[str, pg.InfiniteLine] = {}
        self.override_box = QDoubleSpinBox(self)
        self.override_box.setDecimals(4)
        self.override_box.setRange(-100.0, 100.0)
        self.override_box.setSingleStep(0.005)
        self.override_box.setSuffix(" nA")
        self.override_box.setToolTip(
            "Rheobase to use for the selected cell (nA); press Override to apply"
        )
        self.set_button = QPushButton("Override", self)
        self.set_button.setToolTip(
            "Use this rheobase for the selected cell (undoable, saved in the session, "
            "honoured by efex extract)"
        )
        self.set_button.clicked.connect(self.apply_override)
        self.clear_button = QPushButton("Use computed", self)
        self.clear_button.setToolTip(
            "Forget the override: the chosen strategy's rheobase is used again"
        )
        self.clear_button.clicked.connect(self.clear_override)
        self.info = QLabel(self)
        self.info.setWordWrap(True)
        self._layout()
        self.controller.results_changed.connect(self.refresh)
        self.controller.overrides_changed.connect(self.refresh)
        self.controller.settings_changed.connect(self.refresh)
        self.controller.sc.rheobase_changed.connect(self.refresh)
        self.refresh()

    def _layout(self) -> None:
        right = QWidget(self)
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        right_layout.addWidget(self.plot, 1)
        row = QHBoxLayout()
        row.addWidget(QLabel("Rheobase override:", right))
        row.addWidget(self.override_box)
        row.addWidget(self.set_button)
        row.addWidget(self.clear_button)
        row.addStretch(1)
        right_layout.addLayout(row)
        right_layout.addWidget(self.info)
        splitter = QSplitter(Qt.Orientation.Horizontal, self)
        splitter.addWidget(self.table)
        splitter.addWidget(right)
        splitter.setStretchFactor(0, 2)
        splitter.setStretchFactor(1, 3)
        splitter.setSizes([560, 840])  # the table's seven columns fit
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(splitter)

    # --- refresh ------------------------------------------------------------------
    def refresh(self, *_args: Any) -> None:
        """Recompute the rows and redraw, keeping the selected cell.

        Waits until the view is shown when it is hidden behind another dock.
        """
        if self.defer_refresh():
            return
        selected = self.selected_cell()
        self.rows = self.controller.rheobase_rows()
        blocker = QSignalBlocker(self.table)
        self.table.setRowCount(len(self.rows))
        for r, row in enumerate(self.rows):
            values = [
                row.cell,
                _fmt(row.used),
                *(_fmt(row.by_strategy.get(s)) for s in STRATEGIES),
                _fmt(row.override) if row.override is not None else "",
            ]
            for c, text in enumerate(values):
                item = QTableWidgetItem(text)
                if c == 1 and row.override is not None:
                    item.setToolTip(f"Overridden; computed: {_fmt(row.computed)} nA")
                self.table.setItem(r, c, item)
        names = [row.cell for row in self.rows]
        index = names.index(selected) if selected in names else 0
        if self.rows:
            self.table.selectRow(index)
        del blocker
        self._draw_selected()

    def selected_cell(self) -> str | None:
        """Name of the selected cell."""
        rows = self.table.selectionModel().selectedRows()
        if not rows or rows[0].row() >= len(self.rows):
            return None
        return self.rows[rows[0].row()].cell

    def select_cell(self, name: str) -> None:
        """Select the row of cell ``name``."""
        self.flush_refresh()
        for r, row in enumerate(self.rows):
            if row.cell == name:
                self.table.selectRow(r)

    def _row(self) -> RheobaseRow | None:
        name = self.selected_cell()
        return next((row for row in self.rows if row.cell == name), None)

    def _draw_selected(self) -> None:
        self.plot.clear()
        self.plot.setTitle(None)
        self.lines = {}
        self.points_item = None
        row = self._row()
        has_row = row is not None
        for widget in (self.override_box, self.set_button, self.clear_button):
            widget.setEnabled(has_row)
        if row is None:
            self.info.setText(
                "No rheobase to review yet: press Extract, or read "
                "every file (View ▸ Read all sweeps)."
            )
            return
        self.override_box.setValue(float(row.used) if row.used is not None else 0.0)
        self._draw_points(row)
        self._draw_lines(row)
        self.plot.setTitle(
            f"{row.cell}: rheobase {_fmt(row.used)} nA"
            + (" (override)" if row.override is not None else ""),
            color=TEXT_COLOR,
        )
        silent = sum(p.spikecount is None for p in row.points)
        self.info.setText(
            f"{len(row.points)} sweeps of the rheobase protocols; {silent} without "
            "spikes (open circles: not seen by the strategies, efel gives no spike "
            "count)."
        )

    def _draw_points(self, row: RheobaseRow) -> None:
        spots = []
        for point in row.points:
            spiking = point.spikecount is not None
            spots.append(
                {
                    "pos": (point.amp, point.spikecount if spiking else 0),
                    "brush": pg.mkBrush("#333333" if spiking else None),
                    "pen": pg.mkPen("#333333"),
                    "symbol": "o",
                    "size": 9,
                    "data": point,
                }
            )
        self.points_item = pg.ScatterPlotItem(
            spots=spots,
            symbol="o",
            pen=pg.mkPen("#333333"),
            brush=pg.mkBrush("#333333"),
        )
        self.plot.addItem(self.points_item)

    def _draw_lines(self, row: RheobaseRow) -> None:
        # one label height apart, so strategies with close values stay readable
        others = [
            (n, v)
            for n, v in row.by_strategy.items()
            if v is not None and v != row.used
        ]
        for step, (name, value) in enumerate(others):
            line = pg.InfiniteLine(
                pos=float(value),
                angle=90,
                label=name,
                pen=pg.mkPen(
                    STRATEGY_COLORS.get(name, "k"), width=1, style=Qt.PenStyle.DashLine
                ),
                labelOpts={
                    "position": 0.82 - 0.1 * step,
                    "color": STRATEGY_COLORS.get(name, "k"),
                },
            )
            self.plot.addItem(line)
            self.lines[name] = line
        if row.used is not None:
            agree = [n for n, v in row.by_strategy.items() if v == row.used]
            label = "override" if row.override is not None else "used"
            if agree:
                label += f" ({', '.join(agree)})"
            used = pg.InfiniteLine(
                pos=float(row.used),
                angle=90,
                label=label,
                pen=pg.mkPen(USED_COLOR, width=3),
                labelOpts={"position": 0.95, "color": USED_COLOR},
            )
            self.plot.addItem(used)
            self.lines["used"] = used

    # --- commands -----------------------------------------------------------------
    def apply_override(self) -> None:
        """Use the value of the box as the selected cell's rheobase."""
        name = self.selected_cell()
        if name is not None:
            self.controller.set_rheobase_override(name, self.override_box.value())

    def clear_override(self) -> None:
        """Go back to the computed rheobase for the selected cell."""
        name = self.selected_cell()
        if name is not None:
            self.controller.set_rheobase_override(name, None)
