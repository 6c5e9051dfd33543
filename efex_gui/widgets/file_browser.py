"""FileBrowser: the tree of cells → protocols → sweeps, with check boxes and menus.

Ticking or unticking a row, the context menu and the X key send exclusion commands;
selecting rows sends ``select_sweeps``. The browser redraws from the controller's
signals and blocks its own echo when it follows the controller's selection.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import (
    QItemSelection,
    QItemSelectionModel,
    QPoint,
    QSignalBlocker,
    Qt,
)
from PySide6.QtGui import QGuiApplication, QKeyEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QInputDialog,
    QMenu,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from efex_gui.app.controller import SessionController
from efex_gui.core.dataset import SweepKey
from efex_gui.widgets.recording_tree_model import FILE, NAME, STATUS, RecordingTreeModel

#: at most this many sweeps are overlaid when a protocol row is selected
MAX_OVERLAY = 40


class RecordingTree(QTreeView):
    """A tree view that turns X into an exclusion toggle."""

    def __init__(self, browser: FileBrowser) -> None:
        super().__init__(browser)
        self._browser = browser

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_X and not event.modifiers():
            self._browser.toggle_selected()
            event.accept()
            return
        super().keyPressEvent(event)


class FileBrowser(QWidget):
    """Tree of the dataset; the selection drives the plot and the metadata panel."""

    def __init__(
        self, controller: SessionController, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.controller = controller
        self.model = RecordingTreeModel(controller, self)
        self.tree = RecordingTree(self)
        self.tree.setModel(self.model)
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.tree.setUniformRowHeights(True)
        self.tree.setAlternatingRowColors(True)
        self.tree.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.tree.customContextMenuRequested.connect(self._on_context_menu)
        header = self.tree.header()
        header.setStretchLastSection(True)
        header.setSectionResizeMode(NAME, QHeaderView.ResizeMode.Interactive)
        self.tree.setColumnWidth(NAME, 250)
        for column in range(1, STATUS):
            self.tree.setColumnWidth(column, 86)
        self.tree.setColumnWidth(STATUS, 190)
        self.tree.setColumnWidth(FILE, 200)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.tree)
        self.tree.selectionModel().selectionChanged.connect(self._on_tree_selection)
        controller.selection_changed.connect(self._on_selection_changed)
        controller.session_changed.connect(self._on_session_changed)

    # --- selection ------------------------------------------------------------------
    def selected_indexes(self) -> list[Any]:
        """Selected rows (column 0), in view order."""
        rows = self.tree.selectionModel().selectedRows(NAME)
        return sorted(rows, key=lambda i: self.tree.visualRect(i).top())

    def _selection_sweeps(self) -> list[SweepKey]:
        """The sweeps the tree's selection stands for (a protocol: its sweeps)."""
        sweeps: list[SweepKey] = []
        for index in self.selected_indexes():
            kind = self.model.kind(index)
            if kind == "sweep":
                sweeps.append(self.model.sweep(index))  # type: ignore[arg-type]
            elif kind == "protocol":
                sweeps.extend(self.model.sweeps_under(index)[:MAX_OVERLAY])
        normalize = self.controller.store.normalize
        return list(dict.fromkeys(normalize(s) for s in sweeps))

    def _on_tree_selection(
        self, _selected: QItemSelection, _deselected: QItemSelection
    ) -> None:
        self.controller.select_sweeps(self._selection_sweeps())

    def _on_selection_changed(self, sweeps: list[SweepKey]) -> None:
        if not sweeps or self._selection_sweeps() == sweeps:
            return
        selection = QItemSelection()
        for sweep in sweeps:
            index = self.model.index_of_sweep(sweep)
            if index.isValid():
                last = self.model.index(
                    index.row(), self.model.columnCount() - 1, index.parent()
                )
                selection.select(index, last)
        model = self.tree.selectionModel()
        with QSignalBlocker(model):
            flags = (
                QItemSelectionModel.SelectionFlag.ClearAndSelect
                | QItemSelectionModel.SelectionFlag.Rows
            )
            model.select(selection, flags)
            if not selection.isEmpty():
                current = selection.indexes()[0]
                model.setCurrentIndex(
                    current, QItemSelectionModel.SelectionFlag.NoUpdate
                )
                self.tree.scrollTo(current)
        self.tree.viewport().update()

    def _on_session_changed(self, _session: Any) -> None:
        for row in range(self.model.rowCount()):
            self.tree.expand(self.model.index(row, 0))

    # --- exclusion commands ---------------------------------------------------------
    def _selected_keys(self) -> list[Any]:
        return list(
            dict.fromkeys(self.model.exclusion_key(i) for i in self.selected_indexes())
        )

    def toggle_selected(self) -> None:
        """Exclude the selected rows, or include them if all are excluded."""
        keys = self._selected_keys()
        if keys:
            all_excluded = all(self.controller.is_excluded(k) for k in keys)
            self.controller.set_excluded(keys, not all_excluded)

    def exclude_selected(self, ask_reason: bool = False) -> None:
        """Exclude the selected rows (asking for a reason if wanted)."""
        keys = self._selected_keys()
        if not keys:
            return
        reason = ""
        if ask_reason:
            reason, ok = QInputDialog.getText(self, "Exclude", "Reason (optional):")
            if not ok:
                return
        self.controller.set_excluded(keys, True, reason.strip())

    def include_selected(self) -> None:
        """Include the selected rows again."""
        keys = self._selected_keys()
        if keys:
            self.controller.set_excluded(keys, False)

    # --- context menu ---------------------------------------------------------------
    def _on_context_menu(self, position: QPoint) -> None:
        if not self.selected_indexes():
            return
        menu = self.build_context_menu()
        menu.exec(self.tree.viewport().mapToGlobal(position))

    def build_context_menu(self) -> QMenu:
        """The right-click menu for the current selection."""
        menu = QMenu(self)
        menu.addAction("Exclude", lambda: self.exclude_selected(False))
        menu.addAction("Exclude with reason…", lambda: self.exclude_selected(True))
        menu.addAction("Include", self.include_selected)
        menu.addSeparator()
        menu.addAction("Read now", self._read_selected)
        menu.addAction("Copy file path", self._copy_paths)
        menu.addSeparator()
        menu.addAction("Expand all", self.tree.expandAll)
        menu.addAction("Collapse all", self.tree.collapseAll)
        return menu

    def _read_selected(self) -> None:
        sweeps = [
            s for i in self.selected_indexes() for s in self.model.sweeps_under(i)
        ]
        self.controller.load_entries(list(dict.fromkeys(s.entry_key for s in sweeps)))

    def _copy_paths(self) -> None:
        sweeps = [
            s for i in self.selected_indexes() for s in self.model.sweeps_under(i)
        ]
        entries = dict.fromkeys(s.entry_key for s in sweeps)
        paths = [
            self.controller.dataset.resolve(self.controller.dataset.file(k))
            for k in entries
        ]
        QGuiApplication.clipboard().setText("\n".join(dict.fromkeys(paths)))
