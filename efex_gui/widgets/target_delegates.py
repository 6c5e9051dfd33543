"""Item delegates of the target table: multi-row commits, completion, protocols.

Editing one cell of a selection of rows sets the value on every selected row of that
column, in one undoable edit; the feature column completes efel's feature names
(substring, any case); the protocol column offers the session's protocols.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtWidgets import (
    QComboBox,
    QCompleter,
    QLineEdit,
    QStyledItemDelegate,
    QTableView,
    QWidget,
)

from efex_gui.core.features import efel_feature_names

Index = QModelIndex | QPersistentModelIndex


class RowsDelegate(QStyledItemDelegate):
    """Commits a cell's value to every selected row of its column (one undo step)."""

    def __init__(self, view: TargetTableView) -> None:
        super().__init__(view)
        self.view = view

    def setModelData(self, editor: QWidget, model: Any, index: Index) -> None:
        """Write the edited value to all selected rows if the edited one is selected."""
        value = self.editor_value(editor)
        if value is None:
            super().setModelData(editor, model, index)
            return
        rows = self.view.selected_rows()
        if index.row() not in rows:
            rows = [index.row()]
        model.set_values(rows, index.column(), value)

    def editor_value(self, editor: QWidget) -> Any:
        """Return the text of the editor (None: let Qt handle it)."""
        if isinstance(editor, QLineEdit):
            return editor.text()
        if isinstance(editor, QComboBox):
            return editor.currentText()
        return None


class FeatureDelegate(RowsDelegate):
    """A line edit completing efel feature names (substring, any case)."""

    def createEditor(self, parent: QWidget, option: Any, index: Index) -> QWidget:
        """Make a line edit that completes efel feature names."""
        editor = QLineEdit(parent)
        completer = QCompleter(efel_feature_names(), editor)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        completer.setFilterMode(Qt.MatchFlag.MatchContains)
        editor.setCompleter(completer)
        return editor


class ProtocolDelegate(RowsDelegate):
    """An editable combo box listing the session's protocols."""

    def __init__(self, view: TargetTableView, protocols: Any) -> None:
        super().__init__(view)
        self.protocols = protocols

    def createEditor(self, parent: QWidget, option: Any, index: Index) -> QWidget:
        """Make an editable combo box listing the protocols read."""
        editor = QComboBox(parent)
        editor.setEditable(True)
        editor.addItems(self.protocols())
        return editor

    def setEditorData(self, editor: QWidget, index: Index) -> None:
        """Show the current protocol in the combo box."""
        if isinstance(editor, QComboBox):
            editor.setCurrentText(str(index.data(Qt.ItemDataRole.EditRole) or ""))
        else:
            super().setEditorData(editor, index)


class TargetTableView(QTableView):
    """The target table; Delete removes rows, Ctrl+D duplicates them."""

    def selected_rows(self) -> list[int]:
        """Return the indices of the selected rows, sorted."""
        return sorted({i.row() for i in self.selectionModel().selectedIndexes()})
