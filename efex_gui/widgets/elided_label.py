"""A one-line label that never widens its window.

Long text is elided, and given in full in its tooltip.

A plain QLabel asks for the width of its whole text, so one long error message in a
toolbar or status bar pushed the main window past the screen. ``ElidedLabel`` asks
for little, shows what fits with "…" and keeps the full text in its tooltip.
"""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QPainter, QPaintEvent
from PySide6.QtWidgets import QLabel, QSizePolicy, QWidget

#: the width (in average characters) an ElidedLabel asks for at most
PREFERRED_CHARS = 60


class ElidedLabel(QLabel):
    """A QLabel for one line of plain text, elided on the right when too long.

    Parameters
    ----------
    text : str
        Initial text.
    parent : QWidget, optional
        Qt parent.
    """

    def __init__(self, text: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setText(text)

    def setText(self, text: str) -> None:
        """Show ``text`` (one line); the full text is the tooltip when elided."""
        flat = " ".join(str(text).split())
        super().setText(flat)
        self.setToolTip(flat if len(flat) > 40 else "")
        self.update()

    def elided_text(self) -> str:
        """Return the text as it fits the current width."""
        return self.fontMetrics().elidedText(
            self.text(), Qt.TextElideMode.ElideRight, max(0, self.width())
        )

    def sizeHint(self) -> QSize:
        """Prefer at most :data:`PREFERRED_CHARS` characters of width."""
        hint = super().sizeHint()
        limit = self.fontMetrics().averageCharWidth() * PREFERRED_CHARS
        return QSize(min(hint.width(), limit), hint.height())

    def minimumSizeHint(self) -> QSize:
        """Allow any width down to zero (the text is elided)."""
        return QSize(0, super().minimumSizeHint().height())

    def paintEvent(self, event: QPaintEvent) -> None:
        """Paint the text elided to the current width."""
        painter = QPainter(self)
        alignment = Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft
        painter.drawText(self.rect(), int(alignment), self.elided_text())
