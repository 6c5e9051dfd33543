"""TargetCheckPanel: the live check under the target table.

A summary line (targets, errors, warnings, notes; a hint and a *Read every file*
button while matches cannot be counted) and the list of issues of
:mod:`efex_gui.core.targets.check`, worst first. Clicking an issue selects its rows in
the table (:attr:`TargetCheckPanel.rows_chosen`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QStyle,
    QVBoxLayout,
    QWidget,
)

if TYPE_CHECKING:
    from efex_gui.core.targets.check import TargetCheck

_SEVERITY_ICON = {
    "error": QStyle.StandardPixmap.SP_MessageBoxCritical,
    "warning": QStyle.StandardPixmap.SP_MessageBoxWarning,
    "info": QStyle.StandardPixmap.SP_MessageBoxInformation,
}


class TargetCheckPanel(QWidget):
    """Summary and issue list of a :class:`TargetCheck`.

    Parameters
    ----------
    read_all : callable
        Reads every file of the session (the *Read every file* button).
    parent : QWidget, optional
        Qt parent.
    """

    #: the rows of a clicked issue (list[int])
    rows_chosen = Signal(object)

    def __init__(self, read_all: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.summary = QLabel(self)
        self.summary.setWordWrap(True)
        self.count_button = QPushButton("Read every file to count", self)
        self.count_button.setToolTip(
            "Read all the session's files in the background (View ▸ Read all "
            "sweeps), then count the sweeps within each target's tolerance"
        )
        self.count_button.clicked.connect(read_all)
        self.count_button.setVisible(False)
        self.issues = QListWidget(self)
        self.issues.setToolTip(
            "Problems of the target list; click one to select its rows"
        )
        self.issues.itemClicked.connect(self._on_clicked)
        self._shown: list[Any] | None = None
        row = QHBoxLayout()
        row.addWidget(self.summary, 1)
        row.addWidget(self.count_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(row)
        layout.addWidget(self.issues, 1)

    def show_check(self, check: TargetCheck, n_targets: int) -> None:
        """Show ``check`` of a list of ``n_targets`` targets."""
        if check.issues != self._shown:
            self._fill(check.issues)
        self.issues.setVisible(bool(check.issues))
        counts = {
            s: sum(i.severity == s for i in check.issues)
            for s in ("error", "warning", "info")
        }
        if check.issues:
            text = (
                f"Check: {n_targets} targets — {counts['error']} errors, "
                f"{counts['warning']} warnings, {counts['info']} notes"
            )
        else:
            text = f"Check: {n_targets} targets, no problem found."
        uncounted = bool(n_targets) and all(c is None for c in check.coverage)
        if uncounted:
            text += (
                " Matching sweeps are counted after Extract, or once every file "
                "is read."
            )
        self.summary.setText(text)
        self.count_button.setVisible(uncounted)

    def _fill(self, issues: list[Any]) -> None:
        self._shown = list(issues)
        icons = {
            key: self.style().standardIcon(pixmap)
            for key, pixmap in _SEVERITY_ICON.items()
        }
        self.issues.setUpdatesEnabled(False)
        self.issues.clear()
        for issue in issues:
            item = QListWidgetItem(icons[issue.severity], issue.message)
            item.setData(Qt.ItemDataRole.UserRole, list(issue.rows))
            item.setToolTip(issue.message)
            self.issues.addItem(item)
        self.issues.setUpdatesEnabled(True)

    def _on_clicked(self, item: QListWidgetItem) -> None:
        self.rows_chosen.emit(item.data(Qt.ItemDataRole.UserRole) or [])
