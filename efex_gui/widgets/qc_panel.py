"""QCPanel: the sweeps the automatic QC flags, grouped by check, and its settings.

Top: one row per check that flags something ("Slow noise (5)"), its sweeps below
("cell / protocol / sweep: value"); clicking a sweep selects it in the browser and the
plot. "Exclude all flagged by <check>" excludes them as one undoable action whose
reason is the check (:func:`efex_gui.app.qc_actions.exclude_flagged`). Bottom: every
check with its switch and threshold, saved with the session. The panel holds no
science: the flags come from the core (:mod:`efex_gui.core.recordings.sweep_qc`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QDockWidget,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMainWindow,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from efex_gui.app.controller import SessionController
from efex_gui.app.qc_actions import (
    check_label,
    exclude_flagged,
    flagged_by_check,
    set_qc_settings,
)
from efex_gui.core.recordings.qc_settings import CHECKS, QCSettings
from efex_gui.widgets.controller_view import ControllerView

if TYPE_CHECKING:
    from efex_gui.core.session.dataset import SweepKey

__all__ = ["QCPanel", "install_qc_ui"]

#: width (px) the QC dock opens with: check names and thresholds readable
DOCK_WIDTH = 430
SWEEP_ROLE = Qt.ItemDataRole.UserRole
CHECK_ROLE = Qt.ItemDataRole.UserRole + 1
NOTHING_FLAGGED = "No sweep flagged by the automatic QC (read sweeps only)."
PANEL_TIP = (
    "Sweeps the automatic QC flags, by check. Click a sweep (or walk them with the "
    "arrow keys) to show it. QC never "
    "excludes anything by itself: you decide (Exclude all flagged by a check, or "
    "untick sweeps in the browser)."
)


class QCPanel(ControllerView[SessionController]):
    """Flagged sweeps by check, the exclude action, and the checks' settings."""

    def _build(self) -> None:
        #: True while the tree is rebuilt (its current item changes by itself)
        self._refreshing = False
        self.setToolTip(PANEL_TIP)
        self.summary = QLabel(NOTHING_FLAGGED, self)
        self.summary.setWordWrap(True)
        self.tree = QTreeWidget(self)
        self.tree.setHeaderLabels(["Check / sweep", "Value"])
        self.tree.header().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.tree.itemClicked.connect(self._on_clicked)
        self.tree.currentItemChanged.connect(self._on_current)
        self.exclude_button = QPushButton("Exclude all flagged by …", self)
        self.exclude_button.setEnabled(False)
        self.exclude_button.clicked.connect(self.exclude_current_check)
        self.settings_table = QTableWidget(len(CHECKS), 3, self)
        self.settings_table.setHorizontalHeaderLabels(
            ["Check (on/off)", "Threshold", "Unit"]
        )
        self.settings_table.horizontalHeader().setSectionResizeMode(
            0, QHeaderView.ResizeMode.Stretch
        )
        self.settings_table.verticalHeader().setVisible(False)
        self._fill_settings()
        self.settings_table.itemChanged.connect(self._on_setting_edited)
        top = QWidget(self)
        top_layout = QVBoxLayout(top)
        top_layout.setContentsMargins(0, 0, 0, 0)
        top_layout.addWidget(self.summary)
        top_layout.addWidget(self.tree, 1)
        buttons = QHBoxLayout()
        buttons.addWidget(self.exclude_button)
        top_layout.addLayout(buttons)
        splitter = QSplitter(Qt.Orientation.Vertical, self)
        splitter.addWidget(top)
        splitter.addWidget(self.settings_table)
        splitter.setSizes([400, 260])
        layout = QVBoxLayout(self)
        layout.addWidget(splitter)
        self.controller.qc_changed.connect(self.refresh)
        self.controller.session_changed.connect(self._on_session)
        self.controller.exclusions_changed.connect(self._on_exclusions)

    # --- flagged sweeps -------------------------------------------------------------
    def refresh(self, *_args: Any) -> None:
        """Rebuild the tree from the controller's current QC flags."""
        groups = flagged_by_check(self.controller)
        current = self.current_check()
        self._refreshing = True
        try:
            self._fill(groups, current)
        finally:
            self._refreshing = False
        self._on_current()

    def _fill(self, groups: dict[str, list[SweepKey]], current: str | None) -> None:
        self.tree.clear()
        for check, sweeps in groups.items():
            parent = QTreeWidgetItem([f"{check_label(check)} ({len(sweeps)})", ""])
            parent.setData(0, CHECK_ROLE, check)
            for sweep in sweeps:
                parent.addChild(self._sweep_item(check, sweep))
            self.tree.addTopLevelItem(parent)
            if check == current:
                self.tree.setCurrentItem(parent)
        total = len({s for sweeps in groups.values() for s in sweeps})
        self.summary.setText(
            f"{total} sweep{'s' if total != 1 else ''} flagged by "
            f"{len(groups)} check{'s' if len(groups) != 1 else ''}"
            if groups
            else NOTHING_FLAGGED
        )

    def _sweep_item(self, check: str, sweep: SweepKey) -> QTreeWidgetItem:
        summary = self.controller.summary(sweep)
        result = next(
            r for r in self.controller.store.qc_flags(sweep) if r.check == check
        )
        item = QTreeWidgetItem(
            [f"{sweep.cell} / {sweep.protocol} / {summary.name}", f"{result.value:.3g}"]
        )
        item.setData(0, SWEEP_ROLE, sweep)
        item.setData(0, CHECK_ROLE, check)
        item.setToolTip(0, "\n".join(summary.flags))
        self._show_excluded(item, summary.status == "excluded")
        return item

    def _on_exclusions(self, *_args: Any) -> None:
        """Grey the flagged sweeps now excluded (the flags are the same)."""
        parents = (
            self.tree.topLevelItem(i) for i in range(self.tree.topLevelItemCount())
        )
        for parent in filter(None, parents):
            for item in filter(None, map(parent.child, range(parent.childCount()))):
                key = self.controller.exclusion_key(item.data(0, SWEEP_ROLE))
                self._show_excluded(item, self.controller.is_excluded(key))

    @staticmethod
    def _show_excluded(item: QTreeWidgetItem, excluded: bool) -> None:
        if excluded:
            item.setForeground(0, Qt.GlobalColor.gray)
        else:
            item.setData(0, Qt.ItemDataRole.ForegroundRole, None)

    def current_check(self) -> str | None:
        """Return the check of the current row (a check row or one of its sweeps)."""
        item = self.tree.currentItem()
        return None if item is None else item.data(0, CHECK_ROLE)

    def _on_current(self, current: QTreeWidgetItem | None = None, *_args: Any) -> None:
        """Update the exclude button; a flagged sweep made current is shown.

        So the arrow keys walk the flagged sweeps as clicks do (not while the tree
        is being rebuilt).
        """
        sweep = None if current is None else current.data(0, SWEEP_ROLE)
        if sweep is not None and not self._refreshing:
            self.controller.select_sweeps([sweep])
        check = self.current_check()
        self.exclude_button.setEnabled(check is not None)
        self.exclude_button.setText(
            f"Exclude all flagged by {check_label(check)}"
            if check
            else "Exclude all flagged by … (pick a check)"
        )

    def _on_clicked(self, item: QTreeWidgetItem, _column: int) -> None:
        sweep = item.data(0, SWEEP_ROLE)
        if sweep is not None:
            self.controller.select_sweeps([sweep])

    def exclude_current_check(self) -> int:
        """Exclude every sweep the current check flags (one undoable action)."""
        check = self.current_check()
        return 0 if check is None else exclude_flagged(self.controller, check)

    # --- settings -------------------------------------------------------------------
    def _on_session(self, *_args: Any) -> None:
        self._fill_settings()
        self.refresh()

    def _fill_settings(self) -> None:
        settings = self.controller.session.qc
        table = self.settings_table
        table.blockSignals(True)
        for row, check in enumerate(CHECKS):
            name = QTableWidgetItem(check.label)
            name.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsUserCheckable)
            on = settings.is_enabled(check.name)
            name.setCheckState(Qt.CheckState.Checked if on else Qt.CheckState.Unchecked)
            name.setToolTip(check.description)
            name.setData(CHECK_ROLE, check.name)
            threshold = QTableWidgetItem(f"{settings.threshold(check.name):g}")
            threshold.setToolTip(f"Flag when the value exceeds this ({check.unit})")
            unit = QTableWidgetItem(check.unit)
            unit.setFlags(Qt.ItemFlag.ItemIsEnabled)
            for column, item in enumerate((name, threshold, unit)):
                table.setItem(row, column, item)
        table.blockSignals(False)

    def settings(self) -> QCSettings:
        """Return the settings the table shows (a bad threshold keeps its value)."""
        current = self.controller.session.qc
        settings = QCSettings(dict(current.enabled), dict(current.thresholds))
        for row, check in enumerate(CHECKS):
            name = self.settings_table.item(row, 0)
            threshold = self.settings_table.item(row, 1)
            assert name is not None
            assert threshold is not None
            settings.enabled[check.name] = name.checkState() == Qt.CheckState.Checked
            try:
                value = float(threshold.text())
            except ValueError:
                continue
            if value >= 0:
                settings.thresholds[check.name] = value
        return settings

    def _on_setting_edited(self, _item: QTableWidgetItem) -> None:
        set_qc_settings(self.controller, self.settings())
        self._fill_settings()  # an invalid threshold shows its kept value again


def install_qc_ui(main_window: QMainWindow, controller: SessionController) -> QCPanel:
    """Add the QC dock (right side) to the main window; returns its panel."""
    panel = QCPanel(controller, main_window)
    dock = QDockWidget("QC", main_window)
    dock.setObjectName("qc_dock")
    dock.setWidget(panel)
    main_window.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)
    QTimer.singleShot(
        0,
        lambda: main_window.resizeDocks(
            [dock], [DOCK_WIDTH], Qt.Orientation.Horizontal
        ),
    )
    return panel
