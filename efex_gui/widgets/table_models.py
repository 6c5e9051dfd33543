"""What the Qt item models of the views share: the header by column, flat tables."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
)

Index = QModelIndex | QPersistentModelIndex
DISPLAY = Qt.ItemDataRole.DisplayRole


class ColumnHeaders:
    """The ``headerData`` of an item model, asked column by column (listed first)."""

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = DISPLAY
    ) -> Any:
        """Return :meth:`column_header` (horizontal) or :meth:`row_header` data."""
        if orientation == Qt.Orientation.Horizontal:
            return self.column_header(section, role)
        return self.row_header(section, role)

    def column_header(self, section: int, role: int) -> Any:
        """Return the horizontal header's data of column ``section`` for ``role``."""
        return None

    def row_header(self, section: int, role: int) -> Any:
        """Return the vertical header's data of row ``section`` (None: Qt's)."""
        return None


class FlatTableModel(ColumnHeaders, QAbstractTableModel):
    """A table model without children: :meth:`row_total` rows of ``column_total``."""

    #: the number of columns
    column_total = 0

    def row_total(self) -> int:
        """Return the number of rows shown."""
        raise NotImplementedError

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        """Return :meth:`row_total` (0 under a valid ``parent``: a flat table)."""
        return 0 if parent.isValid() else self.row_total()

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        """Return ``column_total`` (0 under a valid ``parent``: a flat table)."""
        return 0 if parent.isValid() else self.column_total

    def all_changed(self) -> None:
        """Tell the views that every cell may show something new (same shape)."""
        rows = self.row_total()
        if rows:
            self.dataChanged.emit(
                self.index(0, 0), self.index(rows - 1, self.column_total - 1)
            )
