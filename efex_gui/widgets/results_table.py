"""ResultsTable: the rows of ``features.json`` (stimulus, feature, mean, std, n, unit).

Sortable by any column; Ctrl+C (or the context menu) copies the selected rows, or all
rows when none is selected, as tab-separated text with a header line, ready to paste
in a spreadsheet. Double-clicking a row shows that feature in the feature plot
(:attr:`ResultsTable.row_activated`). Stale results are greyed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import (
    QModelIndex,
    QSortFilterProxyModel,
    Qt,
    Signal,
)
from PySide6.QtGui import QAction, QBrush, QColor, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QHeaderView,
    QLabel,
    QTableView,
    QVBoxLayout,
)

from efex_gui.app.extraction_controller import ExtractionController
from efex_gui.core.features import feature_unit
from efex_gui.widgets.controller_view import ControllerView
from efex_gui.widgets.deferred import RefreshWhenShown
from efex_gui.widgets.table_models import FlatTableModel, Index

if TYPE_CHECKING:
    from efex_gui.core.extraction.incremental import ExtractionResult

HEADERS = ["protocol_amplitude", "feature", "mean", "std", "n", "unit"]


@dataclass(frozen=True)
class ResultRow:
    """One feature of one protocol and amplitude, as exported."""

    stimulus: str
    feature: str
    mean: float
    std: float
    n: int
    protocol: str
    #: efel's unit of the feature ("" when unitless)
    unit: str = ""

    def values(self) -> list[Any]:
        """Return the cells of the row, in :data:`HEADERS` order."""
        return [self.stimulus, self.feature, self.mean, self.std, self.n, self.unit]


def result_rows(result: ExtractionResult | None) -> list[ResultRow]:
    """List the exported feature entries of a result, in file order."""
    if result is None:
        return []
    protocol_of = {p.stimulus_name: p.name for p in result.protocols}
    rows = []
    for stimulus, locations in result.features.items():
        for entry in locations.get("soma", []):
            mean, std = entry["val"]
            rows.append(
                ResultRow(
                    stimulus,
                    str(entry.get("efeature_name", entry["feature"])),
                    float(mean),
                    float(std),
                    int(entry["n"]),
                    protocol_of.get(stimulus, stimulus),
                    feature_unit(str(entry["feature"])),
                )
            )
    return rows


class ResultsModel(FlatTableModel):
    """Table model over :func:`result_rows`."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.rows: list[ResultRow] = []
        self.stale = False

    def set_rows(self, rows: list[ResultRow]) -> None:
        """Show ``rows``."""
        self.beginResetModel()
        self.rows = rows
        self.endResetModel()

    def set_stale(self, stale: bool) -> None:
        """Grey the rows when the result lags behind the session."""
        self.stale = stale
        self.all_changed()

    column_total = len(HEADERS)

    def row_total(self) -> int:
        """Return the number of result rows."""
        return len(self.rows)

    def column_header(self, section: int, role: int) -> Any:
        """Return the column titles."""
        return HEADERS[section] if role == Qt.ItemDataRole.DisplayRole else None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        """Return a value as text, or as its sort key (``UserRole``)."""
        if not index.isValid():
            return None
        row = self.rows[index.row()]
        value = row.values()[index.column()]
        if role == Qt.ItemDataRole.DisplayRole:
            return f"{value:.6g}" if isinstance(value, float) else str(value)
        if role == Qt.ItemDataRole.UserRole:  # sort key
            return value
        if role == Qt.ItemDataRole.ForegroundRole and self.stale:
            return QBrush(QColor("gray"))
        if role == Qt.ItemDataRole.ToolTipRole and index.column() == 4 and row.n == 1:
            return "A single value: the std is the default_std_value."
        if role == Qt.ItemDataRole.TextAlignmentRole and 2 <= index.column() <= 4:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None


class ResultsTable(RefreshWhenShown, ControllerView[ExtractionController]):
    """Sortable, copyable table of the extracted features.

    The controller is the source of the results.
    """

    #: a row was double-clicked (protocol name, feature output name)
    row_activated = Signal(str, str)

    def _build(self) -> None:
        self.model = ResultsModel(self)
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.model)
        self.proxy.setSortRole(Qt.ItemDataRole.UserRole)
        self.view = QTableView(self)
        self.view.setModel(self.proxy)
        self.view.setSortingEnabled(True)
        self.view.sortByColumn(-1, Qt.SortOrder.AscendingOrder)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        header = self.view.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        for column, width in enumerate((170, 260, 110, 110, 50, 60)):
            self.view.setColumnWidth(column, width)
        self.view.verticalHeader().setDefaultSectionSize(20)
        self.view.setToolTip(
            "Click a header to sort; Ctrl+C copies the selected rows (or all) as "
            "tab-separated text; double-click a row to plot the feature"
        )
        self.view.doubleClicked.connect(self._on_double_clicked)
        copy_action = QAction("Copy (TSV)", self.view)
        copy_action.setShortcut(QKeySequence.StandardKey.Copy)
        copy_action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        copy_action.triggered.connect(self.copy)
        self.view.addAction(copy_action)
        self.view.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)
        self.summary = QLabel(self)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.summary)
        layout.addWidget(self.view, 1)
        self.controller.results_changed.connect(self.refresh)
        self.controller.stale_changed.connect(self._on_stale)
        self.refresh()

    def refresh(self, *_args: Any) -> None:
        """Show the current result's rows (when shown: hidden, it waits)."""
        if self.defer_refresh():
            return
        result = self.controller.result
        self.model.set_rows(result_rows(result))
        self.model.set_stale(self.controller.is_stale())
        self._summarize()

    def _on_stale(self, stale: bool) -> None:
        self.model.set_stale(stale)
        self._summarize()

    def _summarize(self) -> None:
        result = self.controller.result
        if result is None:
            self.summary.setText("No results yet: press Extract.")
            return
        currents = result.currents
        threshold = currents.get("threshold_current", [float("nan")] * 2)
        holding = currents.get("holding_current", [float("nan")] * 2)
        stale = " — out of date, extract again" if self.controller.is_stale() else ""
        self.summary.setText(
            f"{len(self.model.rows)} features in {len(result.features)} protocols; "
            f"threshold current {float(threshold[0]):.4g} ± {float(threshold[1]):.2g} "
            f"nA, holding {float(holding[0]):.4g} ± {float(holding[1]):.2g} nA"
            f"{stale}"
        )

    def selected_rows(self) -> list[ResultRow]:
        """Return the selected rows in view order (all rows if none is selected)."""
        indexes = sorted({i.row() for i in self.view.selectionModel().selectedRows()})
        if not indexes:
            indexes = list(range(self.proxy.rowCount()))
        return [
            self.model.rows[self.proxy.mapToSource(self.proxy.index(r, 0)).row()]
            for r in indexes
        ]

    def to_tsv(self, rows: list[ResultRow] | None = None) -> str:
        """Tab-separated text of ``rows`` (default: the selection), with a header."""
        rows = self.selected_rows() if rows is None else rows
        lines = ["\t".join(HEADERS)]
        lines += [
            "\t".join(repr(v) if isinstance(v, float) else str(v) for v in row.values())
            for row in rows
        ]
        return "\n".join(lines) + "\n"

    def copy(self) -> str:
        """Copy the selected rows (or all) to the clipboard as TSV."""
        text = self.to_tsv()
        QApplication.clipboard().setText(text)
        return text

    def _on_double_clicked(self, index: QModelIndex) -> None:
        row = self.model.rows[self.proxy.mapToSource(index).row()]
        self.row_activated.emit(row.protocol, row.feature)
