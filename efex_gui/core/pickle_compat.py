"""Old module paths kept importable: pickles written before the core moved still load.

``cells.pkl`` and ``protocols.pkl`` store each object's class by module path
(``efex_gui.core.cell.Cell``, ``efex_gui.core.ecodes.step.Step``,
``efex_gui.core.protocol.Protocol``, ``efex_gui.core.target.EFeatureTarget``...). Those
modules moved into rooms (issue 11, ``/work/notes/moves.tsv``); :data:`ALIASES` maps
the old paths of every module whose classes a pickle can hold to their new ones, and
:func:`install` puts a finder on ``sys.meta_path`` that answers an import of an old path
with the new module itself (same module object, so ``isinstance`` holds). A plain
``pickle.load`` works; nothing else in efex_gui imports the old paths.

apply_moves: keep (this file names the pre-move paths on purpose)
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import sys
from dataclasses import fields
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Sequence
    from types import ModuleType

__all__ = ["ALIASES", "field_state", "install", "new_name", "restore_field_state"]

#: Old module path (and everything under it) → new path, for the pickled classes.
ALIASES: dict[str, str] = {
    "efex_gui.core.cell": "efex_gui.core.recordings.cell",
    "efex_gui.core.recording": "efex_gui.core.recordings.recording",
    "efex_gui.core.spikes": "efex_gui.core.recordings.spikes",
    "efex_gui.core.ecodes": "efex_gui.core.recordings.ecodes",
    "efex_gui.core.protocol": "efex_gui.core.extraction.protocol",
    "efex_gui.core.target": "efex_gui.core.targets.target",
    "efex_gui.core.auto_targets": "efex_gui.core.targets.auto",
}


def new_name(old: str) -> str | None:
    """Return the current path of a pre-move module path (None: it did not move)."""
    for prefix, new in ALIASES.items():
        if old == prefix or old.startswith(prefix + "."):
            return new + old[len(prefix) :]
    return None


class _AliasFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Answers an import of an old path with the module at its new path."""

    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None = None,
        target: ModuleType | None = None,
    ) -> importlib.machinery.ModuleSpec | None:
        if new_name(fullname) is None:
            return None
        return importlib.machinery.ModuleSpec(fullname, self)

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType:
        new = new_name(spec.name)
        assert new is not None  # find_spec only answers old names
        return importlib.import_module(new)

    def exec_module(self, module: ModuleType) -> None:
        """Nothing to run: the module at the new path is already executed."""


_FINDER = _AliasFinder()


def install() -> None:
    """Put the alias finder on ``sys.meta_path`` (once)."""
    if _FINDER not in sys.meta_path:
        sys.meta_path.insert(0, _FINDER)


def field_state(obj: Any) -> dict[str, Any]:
    """Return a slotted dataclass's state as a plain instance's: a dict of its fields.

    The ``__getstate__`` of the small dataclasses made slotted to save memory (one per
    sweep), so their pickles keep the form the ones written before have.
    """
    return {field.name: getattr(obj, field.name) for field in fields(obj)}


def restore_field_state(obj: Any, state: Any) -> None:
    """Restore :func:`field_state`'s dict (also a pickle written before slots).

    A list or tuple of the values in field order (``dataclasses``' own slotted
    state) is accepted too.
    """
    if not isinstance(state, dict):
        state = {f.name: value for f, value in zip(fields(obj), state, strict=True)}
    for name, value in state.items():
        object.__setattr__(obj, name, value)
