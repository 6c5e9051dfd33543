"""MainWindow: menus, toolbar and docks wired to controller commands; no domain logic.

The file browser on the left; the trace plot with the metadata panel below it on the
right. Opening: File menu, toolbar, drag and drop of folders, recordings or JSON
files (session, extraction config or files_metadata), and the recent-files menu.
"""

from __future__ import annotations

import logging
import os
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt
from PySide6.QtGui import (
    QAction,
    QCloseEvent,
    QDragEnterEvent,
    QDropEvent,
    QIcon,
    QKeySequence,
)
from PySide6.QtWidgets import (
    QApplication,
    QDockWidget,
    QFileDialog,
    QInputDialog,
    QMainWindow,
    QMessageBox,
    QSplitter,
    QStyle,
    QWidget,
)

from efex_gui.app.preferences import Preferences
from efex_gui.core.errors import EfexError
from efex_gui.core.importing.file_names import RECORDING_EXTENSIONS, relative_to
from efex_gui.resources import icon_path
from efex_gui.widgets.cell_analysis_ui import install_cell_analysis
from efex_gui.widgets.extraction_panel import install_extraction_ui
from efex_gui.widgets.file_browser import FileBrowser
from efex_gui.widgets.help import about_html, show_shortcuts
from efex_gui.widgets.import_dialog import ImportDialog
from efex_gui.widgets.metadata_panel import MetadataPanel
from efex_gui.widgets.qc_panel import install_qc_ui
from efex_gui.widgets.session_document import SessionDocument
from efex_gui.widgets.task_status import TaskStatus
from efex_gui.widgets.trace_plot import TracePlot

if TYPE_CHECKING:
    from collections.abc import Sequence

    from efex_gui.app.controller import SessionController
    from efex_gui.app.worker import ErrorReport

logger = logging.getLogger(__name__)
JSON_FILTER = "Sessions and metadata (*.json);;All files (*)"


class MainWindow(SessionDocument, QMainWindow):
    """The application window."""

    def __init__(
        self,
        controller: SessionController,
        preferences: Preferences | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.controller = controller
        self.preferences = preferences or Preferences()
        #: set by tests and --screenshot: never ask before closing or replacing
        self.confirm_close = True
        self._docks_sized = False
        self.setWindowIcon(QIcon(str(icon_path("app"))))
        self.setAcceptDrops(True)
        self.browser = FileBrowser(controller, self)
        self.browser.reasons = self.preferences.exclusion_reasons
        self.plot = TracePlot(controller, self)
        self.metadata = MetadataPanel(controller, self)
        self.plot.metadata_requested.connect(self.metadata.focus_fields)
        self.plot.text_form_requested.connect(self._describe_text_file)
        right = QSplitter(Qt.Orientation.Vertical, self)
        right.addWidget(self.plot)
        right.addWidget(self.metadata)
        right.setStretchFactor(0, 4)
        right.setStretchFactor(1, 1)
        right.setSizes([720, 260])
        self.splitter = QSplitter(Qt.Orientation.Horizontal, self)
        self.splitter.addWidget(self.browser)
        self.splitter.addWidget(right)
        self.splitter.setStretchFactor(0, 2)
        self.splitter.setStretchFactor(1, 3)
        self.splitter.setSizes([700, 900])
        self.setCentralWidget(self.splitter)
        self.task_status = TaskStatus(controller, self)
        self.statusBar().addPermanentWidget(self.task_status)
        self._make_actions()
        self._make_menus()
        self.extraction, self.extraction_ui = install_extraction_ui(self, controller)
        self.extraction.results_changed.connect(self._update_title)
        self.cell_analysis = install_cell_analysis(self, self.extraction)
        self.qc = install_qc_ui(self, controller)
        controller.session_changed.connect(self._update_title)
        controller.dirty_changed.connect(self._update_title)
        controller.task_failed.connect(self._on_task_failed)
        controller.rheobase_changed.connect(self._on_rheobase)
        self._update_title()
        self._restore_geometry()

    def _describe_text_file(self, key: Any) -> None:
        """Open the one form that asks everything a text file still needs."""
        from efex_gui.widgets.text_form import TextForm

        self.text_form = TextForm(self.controller, key, self)
        self.text_form.open()

    def _restore_geometry(self) -> None:
        """Last session's geometry, else most of the screen."""
        geometry = self.preferences.geometry()
        restored = geometry is not None and self.restoreGeometry(geometry)
        if restored and self.width() >= 800 and self.height() >= 600:
            return
        screen = QApplication.primaryScreen()
        available = screen.availableGeometry() if screen is not None else None
        if available is None or available.width() < 800:
            self.resize(1600, 1000)
        else:
            self.resize(
                min(1600, int(available.width() * 0.9)),
                min(1000, int(available.height() * 0.9)),
            )

    # --- actions and menus --------------------------------------------------------
    def _action(
        self,
        text: str,
        slot: Any,
        shortcut: Any = None,
        icon: QIcon | None = None,
        tip: str = "",
    ) -> QAction:
        action = QAction(text, self)
        action.triggered.connect(slot)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        if icon is not None:
            action.setIcon(icon)
        tip = tip or text.replace("…", "")
        action.setStatusTip(tip)
        keys = action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
        action.setToolTip(f"{tip} ({keys})" if keys else tip)
        return action

    def _make_actions(self) -> None:
        style, sp, keys = self.style(), QStyle.StandardPixmap, QKeySequence.StandardKey
        icon = style.standardIcon

        def svg(name: str) -> QIcon:
            return QIcon(str(icon_path(name)))

        specs = [  # attribute, text, slot, shortcut, icon, status tip
            ("open_folder", "Open folder…", self.open_folder_dialog, "Ctrl+Shift+O",
             icon(sp.SP_DirOpenIcon), "Import the recordings of a folder"),
            ("open_files", "Open files…", self.open_files_dialog, None,
             icon(sp.SP_FileIcon), "Import recording files"),
            ("open_json", "Open session or metadata…", self.open_json_dialog,
             keys.Open, icon(sp.SP_DialogOpenButton),
             "Open a saved session, an extraction config or a files_metadata JSON"),
            ("save", "Save session", self.save, keys.Save,
             icon(sp.SP_DialogSaveButton),
             "Save metadata, exclusions, targets and settings to the session file"),
            ("save_as", "Save session as…", self.save_as, keys.SaveAs, None, ""),
            ("new_session", "New session", self.new_session, keys.New, None,
             "Start an empty session (asks to save unsaved changes first)"),
            ("close_session", "Close session", self.close_session, keys.Close,
             None, "Close the session (asks to save unsaved changes first)"),
            ("quit", "Quit", self.close, keys.Quit, None, ""),
            ("exclude", "Exclude / include selection",
             self.controller.toggle_selection_excluded, "Ctrl+Shift+X",
             svg("exclude"), "Exclude the selected sweeps, or include them again"),
            ("exclude_reason", "Exclude with reason…",
             partial(self.browser.exclude_selected, True), None, None, ""),
            ("edit_reasons", "Exclusion reasons…", self.edit_exclusion_reasons,
             None, None, "Edit the short list of common reasons offered when "
             "excluding"),
            ("shortcuts", "Keyboard shortcuts", partial(show_shortcuts, self),
             keys.HelpContents, None, "Every key the window understands"),
            ("about", "About efex-gui", self._about, None, None,
             "Version of efex-gui and of efel, numpy, PySide6, pyqtgraph"),
            ("load_all", "Read all sweeps", self.controller.load_all, "Ctrl+L",
             svg("load_all"),
             "Read every file in the background (amplitudes, spikes, rheobase)"),
            ("next", "Next sweep", partial(self.controller.step_selection, 1),
             "Ctrl+Down", None, ""),
            ("previous", "Previous sweep", partial(self.controller.step_selection, -1),
             "Ctrl+Up", None, ""),
        ]  # fmt: skip
        for name, text, slot, shortcut, action_icon, tip in specs:
            action = self._action(text, slot, shortcut, action_icon, tip)
            setattr(self, f"{name}_action", action)
        stack = self.controller.undo_stack
        self.undo_action = stack.createUndoAction(self, "Undo")
        self.undo_action.setShortcut(keys.Undo)
        self.undo_action.setIcon(icon(sp.SP_ArrowBack))
        self.redo_action = stack.createRedoAction(self, "Redo")
        self.redo_action.setShortcut(keys.Redo)
        self.redo_action.setIcon(icon(sp.SP_ArrowForward))

    def _make_menus(self) -> None:
        a = self.__dict__
        menus: dict[str, list[str | None]] = {
            "&File": ["new_session", "open_folder", "open_files", "open_json",
                      "RECENT", None, "save", "save_as", None, "close_session",
                      "quit"],
            "&Edit": ["undo", "redo", None, "exclude", "exclude_reason",
                      "edit_reasons"],
            "&View": ["load_all", "next", "previous"],
            "&Help": ["shortcuts", "about"],
        }  # fmt: skip
        for title, names in menus.items():
            menu = self.menuBar().addMenu(title)
            for name in names:
                if name is None:
                    menu.addSeparator()
                elif name == "RECENT":
                    self.recent_menu = menu.addMenu("Open recent")
                    self.recent_menu.aboutToShow.connect(self._fill_recent_menu)
                else:
                    menu.addAction(a[f"{name}_action"])
        toolbar = self.addToolBar("Main")
        toolbar.setObjectName("main_toolbar")
        for name in (
            "open_folder",
            "open_json",
            "save",
            None,
            "undo",
            "redo",
            None,
            "exclude",
            "load_all",
        ):
            if name is None:
                toolbar.addSeparator()
            else:
                toolbar.addAction(a[f"{name}_action"])

    def _fill_recent_menu(self) -> None:
        self.recent_menu.clear()
        for path in self.preferences.recent_files():
            self.recent_menu.addAction(path, partial(self.open_path, path))
        if self.recent_menu.isEmpty():
            self.recent_menu.addAction("(none)").setEnabled(False)
        else:
            self.recent_menu.addSeparator()
            self.recent_menu.addAction(
                "Clear the list", self.preferences.clear_recent_files
            )

    # --- opening ------------------------------------------------------------------
    def open_folder_dialog(self) -> None:
        """Ask for a folder and import it."""
        folder = QFileDialog.getExistingDirectory(
            self, "Open folder", self.preferences.last_folder()
        )
        if folder:
            self.open_path(folder)

    def open_files_dialog(self) -> None:
        """Ask for recording files and import them."""
        patterns = " ".join(f"*{e}" for e in RECORDING_EXTENSIONS)
        files, _ = QFileDialog.getOpenFileNames(
            self,
            "Open recordings",
            self.preferences.last_folder(),
            f"Recordings ({patterns});;All files (*)",
        )
        if files:
            self.open_paths(files)

    def open_json_dialog(self) -> None:
        """Ask for a session, extraction config or files_metadata JSON and open it."""
        path, _ = QFileDialog.getOpenFileName(
            self,
            "Open session or metadata",
            self.preferences.last_folder(),
            JSON_FILTER,
        )
        if path:
            self.open_path(path)

    def open_path(self, path: str | Path) -> bool:
        """Open a folder (import), a JSON file, or one recording file."""
        return self.open_paths([path])

    def open_paths(self, paths: Sequence[str | Path]) -> bool:
        """Open dropped or chosen paths: one folder, one JSON, or recording files."""
        resolved = [Path(p).absolute() for p in paths]
        if not resolved:
            return False
        try:
            if len(resolved) == 1 and resolved[0].suffix.lower() == ".json":
                session = self.controller.read_json(resolved[0])
                if not self.confirm_replace(f"opening {resolved[0].name}"):
                    return False
                self.controller.set_session(session, saved=session.path is not None)
                self.preferences.add_recent_file(resolved[0])
                self.controller.load_all()
            elif len(resolved) == 1 and resolved[0].is_dir():
                return self.import_files(resolved[0], None)
            else:
                root = Path(os.path.commonpath([p.parent for p in resolved]))
                return self.import_files(root, [relative_to(p, root) for p in resolved])
        except (EfexError, OSError) as exc:
            self.show_error("Cannot open", str(exc))
            return False
        self.preferences.set_last_folder(resolved[0].parent)
        return True

    def import_files(
        self, root: Path, paths: list[str] | None, dialog: ImportDialog | None = None
    ) -> bool:
        """Run the import dialog (or use an accepted one) and start a session."""
        if dialog is None:
            dialog = ImportDialog(root, paths, self.preferences, self)
            if dialog.exec() != ImportDialog.DialogCode.Accepted:
                return False
        if not self.confirm_replace(f"importing {root.name or root}"):
            return False
        self.controller.new_session(
            dialog.files_metadata(), root, dialog.ecode_overrides
        )
        self.preferences.set_last_folder(root)
        if paths is None:  # a whole folder: worth reopening from the menu
            self.preferences.add_recent_file(root)
        self.controller.load_all()
        return True

    def edit_exclusion_reasons(self) -> None:
        """Edit the common exclusion reasons, one per line (kept in preferences)."""
        text, ok = QInputDialog.getMultiLineText(
            self, "Exclusion reasons", "Common reasons, one per line:",
            "\n".join(self.preferences.exclusion_reasons()),
        )  # fmt: skip
        if ok:
            self.preferences.set_exclusion_reasons(text.splitlines())

    # --- saving -------------------------------------------------------------------
    def save(self) -> bool:
        """Save the session where it was saved before, else ask for a file.

        If another window or program changed that file meanwhile, it asks first
        (:meth:`ask_overwrite`): Overwrite, Save as… or Cancel.
        """
        path = self.controller.session.path
        if path is None:
            return self.save_as()
        if self.controller.file_changed_on_disk():
            choice = self.ask_overwrite(path.name)
            if choice == "save_as":
                return self.save_as()
            if choice != "overwrite":
                return False
        return self._save_to(path)

    def save_as(self) -> bool:
        """Ask for a file name and save the session there."""
        start = str(
            self.controller.session.path
            or Path(self.preferences.last_folder() or Path.cwd()) / "session.json"
        )
        path, _ = QFileDialog.getSaveFileName(self, "Save session", start, JSON_FILTER)
        return bool(path) and self._save_to(Path(path))

    def _save_to(self, path: Path) -> bool:
        try:
            saved = self.controller.save_session(path)
            extraction = getattr(self, "extraction", None)
            if extraction is not None:
                extraction.save_results(saved)
        except (OSError, EfexError, ValueError) as exc:
            self.show_error("Cannot save the session", str(exc))
            return False
        finally:  # the results are saved after the session said it was clean
            self._update_title()
        self.preferences.add_recent_file(saved)
        self.statusBar().showMessage(f"Saved {saved}", 5000)
        return True

    # --- feedback -----------------------------------------------------------------
    def show_error(self, title: str, message: str, details: str = "") -> None:
        """Show a modal error box (only logged when the window is not shown)."""
        logger.error("%s: %s", title, message)
        if not self.isVisible():
            return
        box = QMessageBox(QMessageBox.Icon.Warning, title, message, parent=self)
        if details:
            box.setDetailedText(details)
        box.open()

    def _on_task_failed(self, report: ErrorReport) -> None:
        self.show_error(f"{report.name} failed", report.message, report.details)

    def _on_rheobase(self, rheobases: dict[str, float | None]) -> None:
        known = sum(r is not None for r in rheobases.values())
        self.statusBar().showMessage(
            f"Rheobase found for {known} of {len(rheobases)} cells", 5000
        )

    def _about(self) -> None:
        QMessageBox.about(self, "About efex-gui", about_html())

    def showEvent(self, event: Any) -> None:
        """Give bottom docks their starting height the first time the window shows."""
        super().showEvent(event)
        if not self._docks_sized:
            # Docks added by extensions start small: the traces are the main view.
            self._docks_sized = True
            bottom = [
                d
                for d in self.findChildren(QDockWidget)
                if self.dockWidgetArea(d) == Qt.DockWidgetArea.BottomDockWidgetArea
                and d.isVisible()
            ]
            if bottom:
                self.resizeDocks(
                    bottom,
                    [int(self.height() * 0.3)] * len(bottom),
                    Qt.Orientation.Vertical,
                )

    # --- drag and drop, closing ---------------------------------------------------
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        """Accept a drag that carries files."""
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        """Open the local files dropped on the window."""
        paths = [u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()]
        if paths:
            event.acceptProposedAction()
            self.open_paths(paths)

    def closeEvent(self, event: QCloseEvent) -> None:
        """Close once unsaved work is confirmed: save the geometry, stop the workers."""
        if not self.confirm_replace("quitting"):
            event.ignore()
            return
        if self.confirm_close:  # not for tests and --screenshot
            self.preferences.set_geometry(self.saveGeometry())
        # the extraction's thread and side jobs (cell summary, PDF report) first:
        # they read the session's files, and must not outlive the window
        self.extraction.shutdown()
        self.controller.shutdown()
        event.accept()
        app = QApplication.instance()
        if app is not None:
            app.setProperty("efex_clean_exit", True)
