"""TaskStatus: a progress bar and a cancel button bound to the controller's tasks."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtWidgets import QHBoxLayout, QProgressBar, QPushButton

from efex_gui.app.controller import SessionController
from efex_gui.widgets.controller_view import ControllerView
from efex_gui.widgets.elided_label import ElidedLabel

if TYPE_CHECKING:
    from efex_gui.app.worker import ErrorReport, TaskProgress


class TaskStatus(ControllerView[SessionController]):
    """Shows the running task's progress; hidden when nothing runs."""

    def _build(self) -> None:
        self.label = ElidedLabel(parent=self)
        self.bar = QProgressBar(self)
        self.bar.setMaximumWidth(220)
        self.bar.setTextVisible(True)
        self.cancel_button = QPushButton("Cancel", self)
        self.cancel_button.clicked.connect(self.controller.cancel_task)
        self.cancel_button.setToolTip("Stop the background task (what is done is kept)")
        self.bar.setToolTip("Files read so far, of those to read")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.bar)
        layout.addWidget(self.cancel_button)
        self.controller.task_started.connect(self._on_started)
        self.controller.task_progressed.connect(self._on_progressed)
        self.controller.task_finished.connect(self._on_ended)
        self.controller.task_failed.connect(self._on_failed)
        self.controller.task_cancelled.connect(self._on_ended)
        self.setVisible(False)

    def _on_started(self, name: str) -> None:
        self.label.setText(name)
        self.bar.setRange(0, 0)
        self.setVisible(True)

    def _on_progressed(self, progress: TaskProgress) -> None:
        self.bar.setRange(0, max(progress.total, 1))
        self.bar.setValue(progress.done)
        self.bar.setFormat(f"{progress.done}/{progress.total}")
        self.label.setText(f"{progress.name}: {progress.message}")

    def _on_ended(self, *_args: Any) -> None:
        if not self.controller.is_busy():
            self.setVisible(False)

    def _on_failed(self, report: ErrorReport) -> None:
        self.label.setText(f"{report.name} failed: {report.message}")
        self._on_ended()
