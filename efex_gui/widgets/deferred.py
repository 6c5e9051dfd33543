"""Views that redraw only when someone can see them.

The extraction docks are tabified: after an exclusion only one of the feature plot,
the rheobase view and the results table is on screen. :class:`RefreshWhenShown` lets
the hidden ones skip the redraw (``refresh`` returns at once) and catch up when their
tab is raised (their dock's ``visibilityChanged``) or they are shown, so an update
reaches the visible plot sooner. A widget whose window is not shown at all (tests, a
window being built) refreshes immediately, as before.

Qt keeps every tabified dock "visible"; a dock behind another tab has an empty
``visibleRegion()``, which is what is tested here.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QDockWidget

__all__ = ["RefreshWhenShown"]


class RefreshWhenShown:
    """Mixin for a QWidget with a ``refresh()`` method (listed first in the bases)."""

    _refresh_pending = False
    _watched_dock: Any = None

    def defer_refresh(self) -> bool:
        """Whether to skip this refresh: the widget is hidden in a shown window.

        When True, ``refresh()`` runs when the widget is next on screen.
        """
        widget: Any = self
        if not widget.window().isVisible():
            return False
        if widget.isVisible() and not widget.visibleRegion().isEmpty():
            return False
        self._refresh_pending = True
        self._watch_dock()
        return True

    def flush_refresh(self) -> None:
        """Run a deferred refresh now (before reading or changing what is shown)."""
        if self._refresh_pending:
            self._refresh_pending = False
            self.refresh()  # type: ignore[attr-defined]

    def _watch_dock(self) -> None:
        parent = self.parentWidget()  # type: ignore[attr-defined]
        while parent is not None and not isinstance(parent, QDockWidget):
            parent = parent.parentWidget()
        if parent is not None and parent is not self._watched_dock:
            self._watched_dock = parent
            parent.visibilityChanged.connect(self._on_dock_visibility)

    def _on_dock_visibility(self, visible: bool) -> None:
        if visible and self._refresh_pending:
            QTimer.singleShot(0, self.flush_refresh)  # once the tab is laid out

    def showEvent(self, event: Any) -> None:
        """Catch up with the refreshes skipped while hidden."""
        super().showEvent(event)  # type: ignore[misc]
        self.flush_refresh()
