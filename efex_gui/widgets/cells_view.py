"""The Cells dock: one row of classic measures per cell (the cell summary).

A table adapter over the :class:`CellAnalysisController`'s summaries: sortable,
copyable (Ctrl+C copies the selected cells as tab-separated text with their header),
each value clickable to select the sweeps it came from; a missing value is an empty
cell whose tooltip says which protocol is missing, a value from one sweep is marked
``¹``. Export to CSV and Excel.
"""

from __future__ import annotations

import math
from typing import Any

from PySide6.QtCore import (
    QModelIndex,
    QSortFilterProxyModel,
    Qt,
)
from PySide6.QtGui import QBrush, QColor, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QApplication,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QPushButton,
    QTableView,
    QVBoxLayout,
)

from efex_gui.app.cell_analysis import CellAnalysisController
from efex_gui.core.analysis.cell_summary import MEASURE_LABELS, MEASURES, CellSummary
from efex_gui.widgets.controller_view import ControllerView
from efex_gui.widgets.table_models import FlatTableModel, Index

#: the raw value of a cell, for sorting (missing values last)
SORT_ROLE = Qt.ItemDataRole.UserRole + 1
MISSING_BRUSH = QBrush(QColor(245, 245, 245))
SINGLE_MARK = "¹"


def format_value(value: float | None) -> str:
    """Four significant digits, or '' for a missing value."""
    if value is None or not math.isfinite(value):
        return ""
    return f"{value:.4g}"


class CellsTableModel(FlatTableModel):
    """Rows: cells; columns: the cell name then :data:`MEASURES`."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.summaries: list[CellSummary] = []

    def set_summaries(self, summaries: list[CellSummary]) -> None:
        """Show new summaries."""
        self.beginResetModel()
        self.summaries = list(summaries)
        self.endResetModel()

    #: the cell name, then one column per measure
    column_total = 1 + len(MEASURES)

    def row_total(self) -> int:
        """Return the number of cells."""
        return len(self.summaries)

    def column_header(self, section: int, role: int) -> Any:
        """Return the measure names (with units) and their tooltips."""
        if section == 0:
            return "Cell" if role == Qt.ItemDataRole.DisplayRole else None
        title, unit = MEASURE_LABELS[MEASURES[section - 1]]
        if role == Qt.ItemDataRole.DisplayRole:
            return f"{title} ({unit})" if unit else title
        if role == Qt.ItemDataRole.ToolTipRole:
            return f"{MEASURES[section - 1]}: click a value to select its sweeps"
        return None

    def measure_at(self, index: Index) -> tuple[CellSummary, str | None]:
        """Return the row's summary and the column's measure (None: the name)."""
        summary = self.summaries[index.row()]
        column = index.column()
        return summary, (MEASURES[column - 1] if column > 0 else None)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        """Return the value, text or sort key of a cell of the table for ``role``."""
        if not index.isValid():
            return None
        summary, name = self.measure_at(index)
        if name is None:
            return summary.cell if role in (Qt.ItemDataRole.DisplayRole,
                                             SORT_ROLE) else None  # fmt: skip
        measure = summary.measures[name]
        if role == Qt.ItemDataRole.DisplayRole:
            text = format_value(measure.value)
            return text + SINGLE_MARK if text and measure.n == 1 else text
        if role == SORT_ROLE:
            return measure.value if measure.value is not None else math.inf
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(summary, name)
        if role == Qt.ItemDataRole.BackgroundRole and measure.value is None:
            return MISSING_BRUSH
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    @staticmethod
    def _tooltip(summary: CellSummary, name: str) -> str:
        measure = summary.measures[name]
        title = MEASURE_LABELS[name][0]
        if measure.value is None:
            return f"{summary.cell}: no {title.lower()}: {measure.reason}"
        text = f"{summary.cell}: {title} from {measure.n} sweep{'s' * (measure.n > 1)}"
        if measure.n == 1:
            text += f" ({SINGLE_MARK} from a single sweep)"
        return text + "\nClick to select the sweeps."


class CellsView(ControllerView[CellAnalysisController]):
    """The Cells dock's widget: table, copy and export buttons, status."""

    def _build(self) -> None:
        self.model = CellsTableModel(self)
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.model)
        self.proxy.setSortRole(SORT_ROLE)
        self.table = QTableView(self)
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(0, Qt.SortOrder.AscendingOrder)
        self.table.setSelectionBehavior(QTableView.SelectionBehavior.SelectItems)
        self.table.horizontalHeader().setSectionResizeMode(
            QHeaderView.ResizeMode.ResizeToContents
        )
        self.table.verticalHeader().setVisible(False)
        self.table.clicked.connect(self.select_sweeps_of)
        QShortcut(QKeySequence.StandardKey.Copy, self.table, self.copy_selection)
        self.status = QLabel("No results yet: extract first", self)
        buttons = QHBoxLayout()
        buttons.addWidget(self.status, 1)
        for text, slot, tip in (
            ("Copy", self.copy_selection, "Copy the selected cells (all if none)"),
            ("Export CSV…", lambda: self.export_dialog(".csv"), "Write a CSV table"),
            ("Export Excel…", lambda: self.export_dialog(".xlsx"), "Write .xlsx"),
        ):
            button = QPushButton(text, self)
            button.setToolTip(tip)
            button.clicked.connect(slot)
            buttons.addWidget(button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(buttons)
        layout.addWidget(self.table)
        self.controller.summaries_changed.connect(self._on_summaries)
        self.controller.busy_changed.connect(self._on_busy)
        self.controller.failed.connect(
            lambda r: self.status.setText(f"Failed: {r.message}")
        )

    def _on_summaries(self, summaries: list[CellSummary]) -> None:
        self.model.set_summaries(summaries)
        missing = sum(s.value(m) is None for s in summaries for m in MEASURES)
        self.status.setText(
            f"{len(summaries)} cells; {missing} values missing (hover them); "
            f"{SINGLE_MARK} from a single sweep"
        )

    def _on_busy(self, busy: bool) -> None:
        if busy:
            self.status.setText("Computing the cell summary…")

    def select_sweeps_of(self, index: QModelIndex) -> None:
        """Select the sweeps the clicked value came from."""
        source = self.proxy.mapToSource(index)
        if not source.isValid():
            return
        summary, name = self.model.measure_at(source)
        if name is not None:
            self.controller.select_recordings(summary.measures[name].sweeps)

    def selected_cells(self) -> list[str]:
        """Names of the cells with a selected value (in table order)."""
        rows = {self.proxy.mapToSource(i).row() for i in self.table.selectedIndexes()}
        return [self.model.summaries[r].cell for r in sorted(rows)]

    def table_text(self, only_selected: bool = True) -> str:
        """Return the (selected) values as tab-separated text with the header."""
        indexes = self.table.selectedIndexes() if only_selected else []
        rows = sorted({i.row() for i in indexes}) or range(self.proxy.rowCount())
        columns = sorted({i.column() for i in indexes}) or range(
            self.proxy.columnCount()
        )
        header = [
            str(self.proxy.headerData(c, Qt.Orientation.Horizontal)) for c in columns
        ]
        lines = ["\t".join(header)]
        for row in rows:
            cells = []
            for column in columns:
                index = self.proxy.index(row, column)
                value = self.proxy.data(index, SORT_ROLE)
                cells.append(
                    str(value)
                    if column == 0
                    else ("" if value == math.inf else repr(float(value)))
                )
            lines.append("\t".join(cells))
        return "\n".join(lines)

    def copy_selection(self) -> None:
        """Copy the selected values (all when nothing is selected)."""
        QApplication.clipboard().setText(self.table_text())

    def export_dialog(self, suffix: str) -> None:
        """Ask for a file and write the summary (CSV or Excel)."""
        kind = "CSV (*.csv)" if suffix == ".csv" else "Excel (*.xlsx)"
        path, _ = QFileDialog.getSaveFileName(self, "Export the cell summary",
                                              f"cells{suffix}", kind)  # fmt: skip
        if not path:
            return
        if not path.lower().endswith(suffix):
            path += suffix
        try:
            written = self.controller.export(path)
        except Exception as exc:  # shown to the user, the app goes on
            QMessageBox.warning(self, "Cannot export", str(exc))
            return
        self.status.setText(f"Written {written}")
