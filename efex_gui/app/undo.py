"""Undoable edits: exclusions and metadata, as snapshots the controller applies."""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

from PySide6.QtGui import QUndoCommand

from efex_gui.core.session.dataset import EntryKey

if TYPE_CHECKING:
    from collections.abc import Callable

    from efex_gui.core.session.exclusions import Exclusions


class SetExclusionsCommand(QUndoCommand):
    """Replace the exclusions document (undo puts the old one back)."""

    def __init__(
        self,
        apply: Callable[[Exclusions], None],
        old: Exclusions,
        new: Exclusions,
        text: str,
    ) -> None:
        super().__init__(text)
        self._apply = apply
        self._old = old
        self._new = new

    def redo(self) -> None:
        """Apply the new exclusions."""
        self._apply(self._new)

    def undo(self) -> None:
        """Restore the old exclusions."""
        self._apply(self._old)


ConfigSnapshot = dict[EntryKey, dict[str, Any]]


class EditMetadataCommand(QUndoCommand):
    """Replace the configs of some files_metadata entries (undo restores them)."""

    def __init__(
        self,
        apply: Callable[[ConfigSnapshot], None],
        old: ConfigSnapshot,
        new: ConfigSnapshot,
        text: str,
    ) -> None:
        super().__init__(text)
        self._apply = apply
        self._old = copy.deepcopy(old)
        self._new = copy.deepcopy(new)

    def redo(self) -> None:
        """Apply the edited configs."""
        self._apply(copy.deepcopy(self._new))

    def undo(self) -> None:
        """Restore the configs as they were."""
        self._apply(copy.deepcopy(self._old))


class SetOverridesCommand(QUndoCommand):
    """Replace the protocol → eCode overrides."""

    def __init__(
        self,
        apply: Callable[[dict[str, str]], None],
        old: dict[str, str],
        new: dict[str, str],
        text: str,
    ) -> None:
        super().__init__(text)
        self._apply = apply
        self._old = dict(old)
        self._new = dict(new)

    def redo(self) -> None:
        """Apply the new overrides."""
        self._apply(dict(self._new))

    def undo(self) -> None:
        """Restore the old overrides."""
        self._apply(dict(self._old))
