"""The base of the views bound to a controller.

A view shows what its controller holds and forwards the user's edits to it.
"""

from __future__ import annotations

from typing import Generic, TypeVar

from PySide6.QtWidgets import QWidget

ControllerT = TypeVar("ControllerT")


class ControllerView(QWidget, Generic[ControllerT]):
    """A widget bound to a controller; subclasses lay themselves out in ``_build``.

    Parameters
    ----------
    controller : ControllerT
        The controller the view shows and edits through (session, extraction or
        cell analysis).
    parent : QWidget, optional
        Qt parent.
    """

    def __init__(self, controller: ControllerT, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.controller = controller
        self._build()

    def _build(self) -> None:
        """Create the child widgets and connect them (once, from ``__init__``)."""
