"""The extraction part of the main window, installed by one call.

:func:`install_extraction_ui` creates the :class:`ExtractionController` for the
window's session controller and adds

* an *Extraction* toolbar (:class:`ExtractionBar`): Extract, Cancel, a progress bar,
  the state of the results (up to date, out of date, the time the last update took,
  files that could not be read) and Export;
* an *Extraction* menu with the same commands and the live-update switch;
* five docks, tabified at the bottom: Targets, Settings, Rheobase, Feature plot,
  Results.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QDockWidget,
    QFileDialog,
    QHBoxLayout,
    QMainWindow,
    QMenu,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QStyle,
    QToolBar,
    QToolButton,
    QWidget,
)

from efex_gui.app.extraction_controller import ExtractionController
from efex_gui.app.qt_workarounds import pin_singletons
from efex_gui.widgets.controller_view import ControllerView
from efex_gui.widgets.elided_label import ElidedLabel
from efex_gui.widgets.feature_plot import FeaturePlot
from efex_gui.widgets.results_table import ResultsTable
from efex_gui.widgets.rheobase_view import RheobaseView
from efex_gui.widgets.settings_panel import SettingsPanel
from efex_gui.widgets.target_editor import TargetEditor

if TYPE_CHECKING:
    from collections.abc import Callable

    from efex_gui.app.extraction_worker import ExtractionError, ExtractionProgress
    from efex_gui.core.extraction.incremental import ExtractionResult


#: the extraction's progress bar appears after this long, then updates this often
PROGRESS_DELAY_MS = 150


class ExtractionBar(ControllerView[ExtractionController]):
    """Extract / Cancel / progress / state / Export, bound to the controller.

    The extraction controller runs, cancels and exports.
    """

    def _build(self) -> None:
        style = self.style()
        sp = QStyle.StandardPixmap
        self.extract_button = QPushButton(
            style.standardIcon(sp.SP_MediaPlay), "Extract", self
        )
        self.extract_button.setToolTip("Extract the features of the session (Ctrl+E)")
        self.extract_button.clicked.connect(self.extract)
        self.cancel_button = QPushButton(
            style.standardIcon(sp.SP_MediaStop), "Cancel", self
        )
        self.cancel_button.setToolTip(
            "Stop the extraction (within a second); the previous results stay"
        )
        self.cancel_button.clicked.connect(self.controller.cancel)
        self.cancel_button.setEnabled(False)
        self.progress = QProgressBar(self)
        self.progress.setFixedWidth(200)
        self.progress.setTextVisible(True)
        self.progress.setVisible(False)
        self.progress.setToolTip("Files read, then sweeps whose features are computed")
        #: the bar shows after this delay, then at most ten updates a second: a rerun
        #: after an exclusion (a fraction of a second) draws no bar at all
        self._progress_timer = QTimer(self, singleShot=True, interval=PROGRESS_DELAY_MS)
        self._progress_timer.timeout.connect(self._show_progress)
        self._latest: ExtractionProgress | None = None
        self.state = ElidedLabel("No results yet", self)
        self.problems = QToolButton(self)
        self.problems.setIcon(style.standardIcon(sp.SP_MessageBoxWarning))
        self.problems.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.problems.setAutoRaise(True)
        self.problems.setToolTip("Files that could not be read")
        self.problems.clicked.connect(self.show_problems)
        self.problems.setVisible(False)
        self.export_button = QPushButton(
            style.standardIcon(sp.SP_DialogSaveButton), "Export…", self
        )
        self.export_button.setToolTip(
            "Write features.json, protocols.json, holding_threshold_currents.json and "
            "the provenance sidecar"
        )
        self.export_button.clicked.connect(lambda: self.export_dialog(plots=False))
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 0, 4, 0)
        for widget in (self.extract_button, self.cancel_button, self.progress):
            layout.addWidget(widget)
        layout.addWidget(self.state, 1)  # elided: a long message never widens
        layout.addWidget(self.problems)
        layout.addWidget(self.export_button)
        self.controller.run_started.connect(self._on_started)
        self.controller.run_progressed.connect(self._on_progressed)
        self.controller.results_changed.connect(self._on_results)
        self.controller.run_failed.connect(self._on_failed)
        self.controller.run_cancelled.connect(self._on_cancelled)
        self.controller.stale_changed.connect(self._show_state)
        self.controller.update_timed.connect(self._show_state)
        self.controller.exported.connect(self._on_exported)
        self.last_message = ""

    # --- runs ---------------------------------------------------------------------
    def extract(self) -> None:
        """Start an extraction (queued after the running one).

        When target rows have errors it asks first (:meth:`ask_extract_valid`).
        """
        self._run()

    def _run(self, then: Callable[[ExtractionResult], None] | None = None) -> None:
        errors = self.controller.target_error_rows()
        if errors and not self.ask_extract_valid(
            len(errors), len(self.controller.targets or [])
        ):
            return
        self.controller.run(then, valid_only=bool(errors))

    def ask_extract_valid(self, n_errors: int, n_targets: int) -> bool:
        """Ask whether to extract the targets without errors (True: extract them).

        Parameters
        ----------
        n_errors : int
            Target rows with errors.
        n_targets : int
            All target rows.

        Returns
        -------
        bool
            Whether to run with the valid rows only (never when none is valid).
        """
        rows = "1 target has" if n_errors == 1 else f"{n_errors} targets have"
        box = QMessageBox(
            QMessageBox.Icon.Warning, "Targets with errors", "", parent=self
        )
        box.setInformativeText(
            "The Targets tab lists each error (rows in red); fix them to extract "
            "those targets too."
        )
        if n_errors >= n_targets:
            box.setText(f"{rows} errors: there is nothing valid to extract.")
            box.setStandardButtons(QMessageBox.StandardButton.Ok)
            box.exec()
            return False
        box.setText(f"{rows} errors: extract the {n_targets - n_errors} valid ones?")
        extract = box.addButton("Extract valid", QMessageBox.ButtonRole.AcceptRole)
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(extract)
        box.exec()
        return box.clickedButton() is extract

    def _on_started(self) -> None:
        self.extract_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self.progress.setRange(0, 0)
        self._latest = None
        self._progress_timer.start()
        self.state.setText("Extracting…")

    def _on_progressed(self, progress: ExtractionProgress) -> None:
        self._latest = progress
        if not self._progress_timer.isActive():
            self._progress_timer.start()

    def _show_progress(self) -> None:
        """Show the bar and the latest progress (at most every PROGRESS_DELAY_MS)."""
        if not self.controller.is_running():
            return
        self.progress.setVisible(True)
        progress, self._latest = self._latest, None
        if progress is not None:
            self.progress.setRange(0, max(progress.total, 1))
            self.progress.setValue(progress.done)
            self.progress.setFormat(f"{progress.done}/{progress.total}")
            self.state.setText(progress.message)

    def _ended(self) -> None:
        self._progress_timer.stop()
        self._latest = None
        self.extract_button.setEnabled(True)
        self.cancel_button.setEnabled(False)
        self.progress.setVisible(False)

    def _on_results(self, result: ExtractionResult | None) -> None:
        self._progress_timer.stop()  # this run's progress must not show after it
        self._latest = None
        if not self.controller.is_running():
            self._ended()
        self._show_state()
        skipped = [] if result is None else result.skipped
        self.problems.setVisible(bool(skipped))
        self.problems.setText(f"{len(skipped)} file(s) not read")
        self.problems.setToolTip("\n".join(f"{c}: {p}: {r}" for c, p, r in skipped))

    def _show_state(self, *_args: Any) -> None:
        controller = self.controller
        result = controller.result
        if controller.is_running():
            return
        if result is None:
            text = "No results yet"
        elif controller.changed_files:
            text = (
                f"Results out of date: {len(controller.changed_files)} file(s) "
                "changed on disk — Extract again"
            )
        elif controller.is_stale():
            text = "Results out of date — Extract again"
        elif controller.left_out_targets():
            text = (
                f"Up to date: {len(result.features)} protocols; "
                f"{controller.left_out_targets()} target(s) with errors left out"
            )
        elif controller.restored:
            where = (
                "restored from the autosave (not saved yet)"
                if controller.has_unsaved_results()
                else "saved with the session"
            )
            text = f"Results {where}: {len(result.features)} protocols (up to date)"
        else:
            stats = result.stats
            text = (
                f"Up to date: {len(result.features)} protocols, "
                f"{stats.computed} values computed, {stats.hits} from the cache"
            )
            if controller.last_update_seconds is not None:
                text += (
                    f"; updated {controller.last_update_seconds * 1000:.0f} ms "
                    "after the edit"
                )
        self.state.setText(text)

    def _on_failed(self, error: ExtractionError) -> None:
        self._ended()
        self.last_message = f"Extraction failed: {error.message}"
        self.state.setText(self.last_message + " (previous results kept)")
        if self.isVisible():
            box = QMessageBox(
                QMessageBox.Icon.Warning,
                "Extraction failed",
                error.message,
                parent=self,
            )
            box.setDetailedText(error.details)
            box.open()

    def _on_cancelled(self) -> None:
        self._ended()
        self.state.setText("Cancelled — previous results kept")

    def show_problems(self) -> None:
        """List the files that could not be read."""
        result = self.controller.result
        if result is not None and result.skipped:
            QMessageBox.information(self, "Files not read", self.problems.toolTip())

    # --- export -------------------------------------------------------------------
    def export_dialog(self, plots: bool = False) -> None:
        """Ask for a folder, run the extraction if needed, then export."""
        start = str(self.controller.session.data_root or Path.cwd())
        folder = QFileDialog.getExistingDirectory(self, "Export into folder", start)
        if folder:
            self.export_to(folder, plots)

    def export_to(self, folder: str | Path, plots: bool = False) -> None:
        """Export into ``folder`` (asks before overwriting an earlier export)."""
        controller = self.controller
        if controller.result is None or controller.is_stale():
            self._run(then=lambda _r: self.export_to(folder, plots))
            return
        overwrite = False
        existing = controller.existing_export(folder)
        if existing:
            names = ", ".join(p.name for p in existing)
            answer = QMessageBox.question(
                self,
                "Overwrite the export?",
                f"{folder} already holds {names}. Replace them?",
            )
            if answer != QMessageBox.StandardButton.Yes:
                return
            overwrite = True
        try:
            controller.export(folder, overwrite=overwrite, plots=plots)
        except (OSError, RuntimeError) as exc:
            QMessageBox.warning(self, "Export failed", str(exc))

    def _on_exported(self, paths: list[Path]) -> None:
        folder = paths[0].parent if paths else ""
        self.state.setText(f"Exported {len(paths)} files to {folder}")


def _dock(window: QMainWindow, title: str, widget: QWidget, name: str) -> QDockWidget:
    dock = QDockWidget(title, window)
    dock.setObjectName(name)
    dock.setWidget(widget)
    dock.setAllowedAreas(Qt.DockWidgetArea.AllDockWidgetAreas)
    window.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, dock)
    return dock


def _menu(
    window: QMainWindow,
    controller: ExtractionController,
    bar: ExtractionBar,
    docks: list[QDockWidget],
) -> None:
    menubar = window.menuBar()
    menu = QMenu("E&xtraction", window)
    last = menubar.actions()[-1] if menubar.actions() else None
    if last is not None and last.text().replace("&", "") == "Help":
        menubar.insertMenu(last, menu)  # before Help, by convention the last menu
    else:
        menubar.addMenu(menu)
    actions = [
        ("Extract", bar.extract, "Ctrl+E"),
        ("Cancel extraction", controller.cancel, None),
        ("Export…", lambda: bar.export_dialog(plots=False), "Ctrl+Shift+E"),
        ("Export with plots…", lambda: bar.export_dialog(plots=True), None),
    ]
    for text, slot, shortcut in actions:
        action = QAction(text, window)
        action.triggered.connect(slot)
        if shortcut:
            action.setShortcut(QKeySequence(shortcut))
        menu.addAction(action)
    menu.addSeparator()
    live = QAction("Update results after each edit", window)
    live.setCheckable(True)
    live.setChecked(controller.live_update)
    live.toggled.connect(lambda on: setattr(controller, "live_update", on))
    menu.addAction(live)
    menu.addSeparator()
    for dock in docks:
        menu.addAction(dock.toggleViewAction())


def install_extraction_ui(
    main_window: QMainWindow, session_controller: Any
) -> tuple[ExtractionController, dict[str, Any]]:
    """Add the extraction toolbar, menu and docks to ``main_window``.

    Parameters
    ----------
    main_window : QMainWindow
        Part 1's main window.
    session_controller : SessionController
        Its controller.

    Returns
    -------
    tuple
        The controller of the extraction UI, and its widgets by name (the window
        keeps them as ``extraction`` and ``extraction_ui``).
    """
    pin_singletons()  # PySide6 6.12 drops references to True/None on each emit
    controller = ExtractionController(session_controller, main_window)
    bar = ExtractionBar(controller, main_window)
    toolbar = QToolBar("Extraction", main_window)
    toolbar.setObjectName("extraction_toolbar")
    toolbar.addWidget(bar)
    main_window.addToolBarBreak()
    main_window.addToolBar(toolbar)
    editor = TargetEditor(controller, main_window)
    settings = SettingsPanel(controller, main_window)
    rheobase = RheobaseView(controller, main_window)
    plot = FeaturePlot(controller, main_window)
    results = ResultsTable(controller, main_window)
    docks = [
        _dock(main_window, "Targets", editor, "targets_dock"),
        _dock(main_window, "Settings", settings, "settings_dock"),
        _dock(main_window, "Rheobase", rheobase, "rheobase_dock"),
        _dock(main_window, "Feature plot", plot, "feature_plot_dock"),
        _dock(main_window, "Results", results, "results_dock"),
    ]
    for dock in docks[1:]:
        main_window.tabifyDockWidget(docks[0], dock)
    docks[0].raise_()
    # give the docks about 35 % of the height once the window has its size
    QTimer.singleShot(
        0,
        lambda: main_window.resizeDocks(
            [docks[0]], [int(main_window.height() * 0.35)], Qt.Orientation.Vertical
        ),
    )

    def show_feature(protocol: str, feature: str) -> None:
        plot.choose(protocol, feature)
        docks[3].raise_()

    results.row_activated.connect(show_feature)
    _menu(main_window, controller, bar, docks)
    ui = {
        "bar": bar,
        "targets": editor,
        "settings": settings,
        "rheobase": rheobase,
        "feature_plot": plot,
        "results": results,
        "docks": docks,
    }
    app = QApplication.instance()
    if app is not None:
        app.aboutToQuit.connect(controller.shutdown)
    return controller, ui
