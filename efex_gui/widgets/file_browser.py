"""FileBrowser: the tree of cells → protocols → sweeps, with check boxes and menus.

Ticking or unticking a row, the context menu and the X key send exclusion commands;
selecting rows sends ``select_sweeps``. The browser redraws from the controller's
signals and blocks its own echo when it follows the controller's selection.
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Any

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
    QLabel,
    QMenu,
    QTreeView,
    QVBoxLayout,
)

from efex_gui.app.controller import SessionController
from efex_gui.app.preferences import DEFAULT_EXCLUSION_REASONS
from efex_gui.widgets.controller_view import ControllerView
from efex_gui.widgets.recording_tree_model import RecordingTreeModel
from efex_gui.widgets.tree_text import NAME

if TYPE_CHECKING:
    from collections.abc import Callable

    from efex_gui.core.session.dataset import SweepKey

#: at most this many sweeps are overlaid when a protocol row is selected
MAX_OVERLAY = 40
#: first widths of the columns (name, amp, rel. amp, spikes, status, file)
COLUMN_WIDTHS = (245, 70, 86, 50, 215, 260)
#: what the empty browser says
EMPTY_HINT = (
    "<p><b>No recordings open.</b></p>"
    "<p>Open a folder of recordings (<i>File → Open folder…</i>, Ctrl+Shift+O), "
    "recording files, or a saved session or files_metadata JSON (Ctrl+O).</p>"
    "<p>You can also drop a folder or files onto this window.</p>"
    "<p>To try the app: <code>efex-gui --demo</code>.</p>"
)
TREE_TIP = (
    "Cells → protocols → sweeps. Select a sweep to draw it (several: overlaid); "
    "untick to exclude; X toggles the exclusion; right-click for more."
)


class RecordingTree(QTreeView):
    """A tree view that turns X into an exclusion toggle."""

    def __init__(self, browser: FileBrowser) -> None:
        super().__init__(browser)
        self._browser = browser

    def keyPressEvent(self, event: QKeyEvent) -> None:
        """Toggle the exclusion of the selection on X; other keys as usual."""
        if event.key() == Qt.Key.Key_X and not event.modifiers():
            self._browser.toggle_selected()
            event.accept()
            return
        super().keyPressEvent(event)


class FileBrowser(ControllerView[SessionController]):
    """Tree of the dataset; the selection drives the plot and the metadata panel."""

    def _build(self) -> None:
        #: the common exclusion reasons offered (the window binds the preferences')
        self.reasons: Callable[[], list[str]] = lambda: list(DEFAULT_EXCLUSION_REASONS)
        self.model = RecordingTreeModel(self.controller, self)
        self.tree = RecordingTree(self)
        self.tree.setModel(self.model)
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.tree.setUniformRowHeights(True)
        self.tree.setAlternatingRowColors(True)
        self.tree.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.tree.customContextMenuRequested.connect(self._on_context_menu)
        self.tree.setToolTip(TREE_TIP)
        header = self.tree.header()
        header.setStretchLastSection(True)
        header.setSectionResizeMode(NAME, QHeaderView.ResizeMode.Interactive)
        for column, width in enumerate(COLUMN_WIDTHS):
            self.tree.setColumnWidth(column, width)
        self.empty_hint = QLabel(EMPTY_HINT, self)
        self.empty_hint.setWordWrap(True)
        self.empty_hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_hint.setMargin(24)
        self.empty_hint.setStyleSheet("color: #555")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.tree)
        layout.addWidget(self.empty_hint, 1)
        self.model.modelReset.connect(self._show_hint)
        self._show_hint()
        self.tree.selectionModel().selectionChanged.connect(self._on_tree_selection)
        self.controller.selection_changed.connect(self._on_selection_changed)
        self.controller.session_changed.connect(self._on_session_changed)

    # --- selection ------------------------------------------------------------------
    def selected_indexes(self) -> list[Any]:
        """Return the selected rows (column 0), in view order."""
        rows = self.tree.selectionModel().selectedRows(NAME)
        return sorted(rows, key=lambda i: self.tree.visualRect(i).top())

    def _selection_sweeps(self) -> list[SweepKey]:
        """Return the sweeps the tree's selection stands for (a protocol's: all)."""
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
        self._show_hint()
        for row in range(self.model.rowCount()):
            self.tree.expand(self.model.index(row, 0))

    def _show_hint(self) -> None:
        """Show the tree when there is something to list, else how to open files."""
        empty = self.model.rowCount() == 0
        self.tree.setVisible(not empty)
        self.empty_hint.setVisible(empty)

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
            reason, ok = QInputDialog.getItem(
                self, "Exclude", "Reason (choose one, or type your own):",
                ["", *self.reasons()], 0, True,
            )  # fmt: skip
            if not ok:
                return
        self.exclude_selected_because(reason)

    def exclude_selected_because(self, reason: str) -> None:
        """Exclude the selected rows for ``reason`` (saved and exported with them)."""
        keys = self._selected_keys()
        if keys:
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
        """Build the right-click menu for the current selection."""
        menu = QMenu(self)
        menu.setToolTipsVisible(True)
        entries = [
            ("Exclude", lambda: self.exclude_selected(False),
             "Leave the selected sweeps, protocols or cells out of the extraction (X)"),
            ("Exclude with reason…", lambda: self.exclude_selected(True),
             "Exclude, and note why (kept in the session)"),
            ("Include", self.include_selected, "Take the selection back in"),
            None,
            ("Read now", self._read_selected,
             "Read the selected files again (after changing them on disk)"),
            ("Copy file path", self._copy_paths,
             "Copy the full paths of the selected files to the clipboard"),
            None,
            ("Expand all", self.tree.expandAll, "Show every sweep of every cell"),
            ("Collapse all", self.tree.collapseAll, "Show the cells only"),
        ]  # fmt: skip
        for entry in entries:
            if entry is None:
                menu.addSeparator()
                continue
            text, slot, tip = entry
            menu.addAction(text, slot).setToolTip(tip)
            if text == "Include":  # then the common reasons, one click each
                because = menu.addMenu("Exclude because")
                for reason in self.reasons():
                    because.addAction(
                        reason, partial(self.exclude_selected_because, reason)
                    )
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
