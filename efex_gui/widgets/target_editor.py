"""TargetEditor: edit the target list, with completion and a live check panel.

A table (one row per target: feature, protocol, amplitude, tolerance, efel settings,
output name, matches) with add / duplicate / remove, multi-row editing (select rows,
edit one cell: the value goes to every selected row), efel feature names completed
from efel's catalogue with a description below the table, protocol names from the
session's files, import and export of target lists (list or legacy dict form), presets
(automatic targets, the examples shipped in ``resources/examples``) and the
check panel of :mod:`efex_gui.core.targets.check`, refreshed on every change.
"""

from __future__ import annotations

import copy
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMenu,
    QSplitter,
    QStyle,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from efex_gui.app.extraction_controller import ExtractionController
from efex_gui.core.errors import TargetError
from efex_gui.core.features import describe_feature
from efex_gui.core.targets.files import read_targets, write_targets
from efex_gui.widgets.controller_view import ControllerView
from efex_gui.widgets.target_check_panel import TargetCheckPanel
from efex_gui.widgets.target_delegates import (
    FeatureDelegate,
    ProtocolDelegate,
    RowsDelegate,
    TargetTableView,
)
from efex_gui.widgets.target_table_model import COLUMN, TargetTableModel

if TYPE_CHECKING:
    from efex_gui.core.targets.check import TargetCheck

Index = QModelIndex | QPersistentModelIndex
JSON_FILTER = "Target lists (*.json);;All files (*)"
LIST_FILTER = "Target list, BluePyEfe 2 list form (*.json)"
LEGACY_FILTER = "Target dict, BluePyEfe legacy form (*.json)"


class TargetEditor(ControllerView[ExtractionController]):
    """Editor of the session's target list and its live check.

    The controller owns the targets (commands in, signals out).
    """

    def _build(self) -> None:
        self.model = TargetTableModel(self._commit, self)
        self.model.edit_refused.connect(self.show_message)
        self.view = TargetTableView(self)
        self.view.setModel(self.model)
        self.view.setToolTip(
            "Double-click (or type) to edit; select several rows to set one column "
            "of all of them"
        )
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setEditTriggers(
            QAbstractItemView.EditTrigger.DoubleClicked
            | QAbstractItemView.EditTrigger.EditKeyPressed
            | QAbstractItemView.EditTrigger.AnyKeyPressed
        )
        self.view.setItemDelegate(RowsDelegate(self.view))
        self.view.setItemDelegateForColumn(
            COLUMN["efeature"], FeatureDelegate(self.view)
        )
        self.view.setItemDelegateForColumn(
            COLUMN["protocol"], ProtocolDelegate(self.view, self.controller.protocols)
        )
        header = self.view.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(
            COLUMN["efel_settings"], QHeaderView.ResizeMode.Stretch
        )
        widths = {
            "efeature": 290,
            "protocol": 110,
            "amplitude": 110,
            "tolerance": 100,
            "efeature_name": 150,
            "matches": 150,
        }
        for key, width in widths.items():
            self.view.setColumnWidth(COLUMN[key], width)
        self.view.verticalHeader().setDefaultSectionSize(22)
        self.view.selectionModel().currentRowChanged.connect(self._describe_current)
        self.banner = QLabel(self)
        self.banner.setWordWrap(True)
        self.description = QLabel(self)
        self.description.setWordWrap(True)
        self.description.setTextInteractionFlags(
            Qt.TextInteractionFlag.TextSelectableByMouse
        )
        self.message = QLabel(self)
        self.message.setStyleSheet("color: #b00020;")
        self.message.setWordWrap(True)
        self.check_panel = TargetCheckPanel(self.controller.sc.load_all, self)
        self.check_panel.rows_chosen.connect(self.select_rows)
        #: the check panel's parts (summary line, issue list)
        self.summary, self.issues = self.check_panel.summary, self.check_panel.issues
        self._make_toolbar()
        self._layout()
        self.controller.targets_changed.connect(self._refresh)
        self.controller.results_changed.connect(self._on_results)
        self.controller.check_changed.connect(self._on_check)
        self.controller.settings_changed.connect(self._on_settings)
        self.model.set_absolute(self.controller.session.settings.absolute_amplitude)
        self._refresh()
        self._on_check(self.controller.check)

    # --- layout -------------------------------------------------------------------
    def _button(
        self, text: str, slot: Any, tip: str, icon: Any = None, shortcut: Any = None
    ) -> QToolButton:
        action = QAction(text, self)
        action.setToolTip(tip)
        action.triggered.connect(slot)
        if icon is not None:
            action.setIcon(self.style().standardIcon(icon))
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
            action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            self.addAction(action)
        button = QToolButton(self)
        button.setDefaultAction(action)
        button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        return button

    def _make_toolbar(self) -> None:
        sp = QStyle.StandardPixmap
        self.add_button = self._button(
            "Add", self.add_row, "Add a target row", sp.SP_FileDialogNewFolder, "Ctrl+N"
        )
        self.duplicate_button = self._button(
            "Duplicate",
            self.duplicate_rows,
            "Duplicate the selected rows (Ctrl+D)",
            None,
            "Ctrl+D",
        )
        self.remove_button = self._button(
            "Remove",
            self.remove_rows,
            "Remove the selected rows (Delete)",
            sp.SP_TrashIcon,
            QKeySequence.StandardKey.Delete,
        )
        self.import_button = self._button(
            "Import…",
            self.import_dialog,
            "Read a target list (list or legacy form)",
            sp.SP_DialogOpenButton,
        )
        self.export_button = self._button(
            "Export…",
            self.export_dialog,
            "Write the target list (BluePyEfe's list form, or the legacy dict form)",
            sp.SP_DialogSaveButton,
        )
        self.preset_button = QToolButton(self)
        self.preset_button.setText("Presets")
        self.preset_button.setToolTip(
            "Automatic targets, or one of the example target lists"
        )
        self.preset_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.preset_menu = QMenu(self)
        self.preset_menu.aboutToShow.connect(self._fill_presets)
        self.preset_button.setMenu(self.preset_menu)
        self.edit_auto_button = self._button(
            "Edit as a list",
            self.edit_auto_as_list,
            "Turn the automatic targets into an editable list",
        )

    def _layout(self) -> None:
        bar = QHBoxLayout()
        for button in (
            self.add_button,
            self.duplicate_button,
            self.remove_button,
            self.import_button,
            self.export_button,
            self.preset_button,
        ):
            bar.addWidget(button)
        bar.addStretch(1)
        bar.addWidget(self.edit_auto_button)
        top = QWidget(self)
        top_layout = QVBoxLayout(top)
        top_layout.setContentsMargins(0, 0, 0, 0)
        top_layout.addLayout(bar)
        top_layout.addWidget(self.banner)
        top_layout.addWidget(self.view, 1)
        top_layout.addWidget(self.description)
        top_layout.addWidget(self.message)
        splitter = QSplitter(Qt.Orientation.Vertical, self)
        splitter.addWidget(top)
        splitter.addWidget(self.check_panel)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(splitter)

    # --- refresh ------------------------------------------------------------------
    def _on_settings(self, settings: Any) -> None:
        self.model.set_absolute(settings.absolute_amplitude)

    def _on_results(self, _result: Any) -> None:
        if self.controller.session.targets is None:  # shows the run's auto targets
            self._refresh()

    def _refresh(self, *_args: Any) -> None:
        targets = self.controller.targets
        auto = targets is None
        if auto:
            result = self.controller.result
            shown = result.targets if result is not None and result.auto_targets else []
            self.banner.setText(
                "<b>Automatic targets</b>: BluePyEfe's default auto targets choose the "
                "protocols and amplitudes from the data at each run"
                + (" (below: the choice of the last run)." if shown else ".")
                + " Use <i>Edit as a list</i> to change them."
            )
        else:
            shown = targets or []
        self.banner.setVisible(auto)
        self.edit_auto_button.setVisible(auto)
        for button in (self.add_button, self.duplicate_button, self.remove_button):
            button.setEnabled(not auto)
        self.model.set_targets(shown, read_only=auto)

    def _on_check(self, check: TargetCheck) -> None:
        self.model.set_check(check)
        self.check_panel.show_check(check, self.model.rowCount())

    def _describe_current(self, current: QModelIndex, _previous: Any = None) -> None:
        if not current.isValid():
            self.description.clear()
            return
        name = self.model.index(current.row(), COLUMN["efeature"]).data()
        text = describe_feature(str(name or ""))
        self.description.setText(f"<b>{name}</b>: {text}" if text else "")

    def show_message(self, text: str) -> None:
        """Show why an edit was refused (cleared by the next successful edit)."""
        self.message.setText(text)

    def select_rows(self, rows: list[int]) -> None:
        """Select these rows of the table (e.g. those of a clicked issue)."""
        selection = self.view.selectionModel()
        selection.clearSelection()
        flags = selection.SelectionFlag.Select | selection.SelectionFlag.Rows
        for row in rows:
            selection.select(self.model.index(row, 0), flags)
        if rows:
            self.view.scrollTo(self.model.index(rows[0], 0))

    # --- commands -----------------------------------------------------------------
    def _commit(self, targets: list[dict[str, Any]] | None, text: str) -> None:
        self.message.clear()
        self.controller.set_targets(targets, text)

    def add_row(self) -> None:
        """Add a row after the current one (a copy of it, else a blank target)."""
        rows = self.view.selected_rows()
        targets = self.model.targets()
        if rows:
            new = copy.deepcopy(targets[rows[-1]])
            at = rows[-1] + 1
        else:
            protocols = self.controller.protocols()
            new = {
                "efeature": "Spikecount",
                "protocol": protocols[0] if protocols else "IDRest",
                "amplitude": 150,
                "tolerance": 20,
            }
            at = len(targets)
        self.message.clear()
        self.model.add(new, at)
        self.view.selectRow(at)

    def duplicate_rows(self) -> None:
        """Duplicate the selected rows."""
        self.model.duplicate(self.view.selected_rows())

    def remove_rows(self) -> None:
        """Remove the selected rows."""
        self.model.remove(self.view.selected_rows())

    def edit_auto_as_list(self) -> None:
        """Replace automatic targets by the explicit list shown (or an empty one)."""
        self._commit(self.model.targets(), "Edit the automatic targets as a list")

    def import_file(self, path: str | Path) -> None:
        """Replace the targets by those of a file (list or legacy form)."""
        try:
            targets = read_targets(path)
        except TargetError as exc:
            self.show_message(str(exc))
            return
        self._commit(targets, f"Import targets from {Path(path).name}")

    def export_file(self, path: str | Path, form: str = "list") -> bool:
        """Write the targets shown in the ``"list"`` or ``"legacy"`` form.

        Returns False (and shows why) when the list has no legacy form.
        """
        try:
            write_targets(path, self.model.targets(), form)
        except TargetError as exc:
            self.show_message(f"Not exported: {exc}")
            return False
        return True

    def import_dialog(self) -> None:
        """Ask for a target file and import it."""
        path, _ = QFileDialog.getOpenFileName(self, "Import targets", "", JSON_FILTER)
        if path:
            self.import_file(path)

    def export_dialog(self) -> None:
        """Ask for a file name and export the targets."""
        path, chosen = QFileDialog.getSaveFileName(
            self, "Export targets", "targets.json", f"{LIST_FILTER};;{LEGACY_FILTER}"
        )
        if path:
            self.export_file(path, "legacy" if chosen == LEGACY_FILTER else "list")

    def _fill_presets(self) -> None:
        menu = self.preset_menu
        menu.clear()
        menu.addAction(
            "Automatic targets (chosen from the data at each run)",
            lambda: self._commit(None, "Use automatic targets"),
        )
        from efex_gui.resources import resources_dir

        examples = sorted((resources_dir() / "examples").glob("targets_*.json"))
        if examples:
            menu.addSeparator()
        for path in examples:
            label = path.stem.removeprefix("targets_").replace("_", " ")
            menu.addAction(f"Example: {label}", partial(self.import_file, path))
