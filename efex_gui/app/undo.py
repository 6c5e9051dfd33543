"""Undoable edits: each replaces one value of the session by a snapshot.

Exclusions, metadata and eCode overrides (the session controller), targets, settings
and rheobase overrides (the extraction controller) are all edited the same way: the
command keeps the old and the new value and hands one of them to the controller's
``apply`` function, which puts it in the session and tells the views.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from PySide6.QtGui import QUndoCommand

from efex_gui.core.session.dataset import EntryKey

if TYPE_CHECKING:
    from collections.abc import Callable

#: ``{entry: its metadata}`` of the entries a metadata edit changes
ConfigSnapshot = dict[EntryKey, Mapping[str, Any]]


def _shared(value: Any) -> Any:
    """Return ``value`` itself (an immutable value needs no copy)."""
    return value


class SetValueCommand(QUndoCommand):
    """Replace one value of the session (undo puts the old one back).

    Parameters
    ----------
    apply : callable
        Puts a value in the session (and emits the controller's signals).
    old, new : Any
        The value before and after the edit.
    text : str
        What the Edit menu says ("Exclude 3 sweeps", ...).
    copy_value : callable, optional
        How a value is copied when stored and when applied, so the command's
        snapshots never change with the session (default ``copy.deepcopy``); None
        for an immutable value (an ``Exclusions`` document).
    """

    def __init__(
        self,
        apply: Callable[[Any], None],
        old: Any,
        new: Any,
        text: str,
        copy_value: Callable[[Any], Any] | None = copy.deepcopy,
    ) -> None:
        super().__init__(text)
        self._apply = apply
        self._copy = copy_value or _shared
        self._old, self._new = self._copy(old), self._copy(new)

    def redo(self) -> None:
        """Apply the new value."""
        self._apply(self._copy(self._new))

    def undo(self) -> None:
        """Restore the old value."""
        self._apply(self._copy(self._old))
