"""The edits of :class:`~efex_gui.app.extraction_controller.ExtractionController`.

Targets, extraction settings and per-cell rheobase overrides live in the session.
Each edit is an undoable command on part 1's undo stack: it marks the session dirty,
emits the controller's signal, keeps the browser's rheobases in step when they depend
on the edit, and lets the controller decide whether to rerun
(``ExtractionController._on_edit``).
"""

from __future__ import annotations

import copy
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from efex_gui.app.extraction_review import rheobase_inputs
from efex_gui.app.undo import SetValueCommand
from efex_gui.core.session.document import ExtractionSettings

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = ["ExtractionEdits"]


class ExtractionEdits:
    """Undoable edits of the session's targets, settings and rheobase overrides.

    A mixin of :class:`~efex_gui.app.extraction_controller.ExtractionController`
    (which provides ``sc``, ``session``, the signals and ``_on_edit``).
    """

    sc: Any
    session: Any
    targets_changed: Any
    settings_changed: Any
    overrides_changed: Any
    _on_edit: Callable[..., None]

    @property
    def targets(self) -> list[dict[str, Any]] | None:
        """A copy of the session's targets (None: automatic targets)."""
        targets: list[dict[str, Any]] | None = copy.deepcopy(self.session.targets)
        return targets

    @property
    def settings(self) -> ExtractionSettings:
        """A copy of the session's extraction settings."""
        settings: ExtractionSettings = copy.deepcopy(self.session.settings)
        return settings

    @property
    def overrides(self) -> dict[str, float]:
        """A copy of the session's per-cell rheobase overrides (nA)."""
        return dict(self.session.rheobase_overrides)

    def set_targets(self, targets: list[dict[str, Any]] | None, text: str = "") -> None:
        """Replace the target list (None: automatic targets); undoable."""
        if targets == self.session.targets:
            return
        label = text or ("Use automatic targets" if targets is None else "Edit targets")
        self._push(self._apply_targets, self.session.targets, targets, label)

    def set_settings(self, settings: ExtractionSettings, text: str = "") -> None:
        """Replace the extraction settings; undoable."""
        if settings == self.session.settings:
            return
        self._push(
            self._apply_settings,
            self.session.settings,
            settings,
            text or "Edit extraction settings",
        )

    def set_rheobase_override(self, cell: str, value: float | None) -> None:
        """Use ``value`` (nA) as the rheobase of ``cell`` (None: the computed one)."""
        old = self.overrides
        new = dict(old)
        if value is None:
            new.pop(cell, None)
        else:
            new[cell] = float(value)
        if new != old:
            verb = "Reset" if value is None else "Override"
            self._push(
                self._apply_overrides, old, new, f"{verb} the rheobase of {cell}"
            )

    def _push(
        self, apply: Callable[[Any], None], old: Any, new: Any, text: str
    ) -> None:
        self.sc.undo_stack.push(SetValueCommand(apply, old, new, text))

    def _apply_targets(self, targets: list[dict[str, Any]] | None) -> None:
        self.session.targets = targets
        self.targets_changed.emit(targets)
        self.sc.changed.emit()
        self._on_edit(rerun=True)

    def _apply_settings(self, settings: ExtractionSettings) -> None:
        old = self.session.settings
        self.session.settings = settings
        self.settings_changed.emit(settings)
        self.sc.changed.emit()
        if rheobase_inputs(old) != rheobase_inputs(settings):
            # the browser's relative amplitudes follow the rheobase settings
            self.sc.store.update_rheobase(self.session)
        # new efel settings mean new spike counts and features: rerun on request only
        self._on_edit(rerun=old.efel_settings == settings.efel_settings)

    def _apply_overrides(self, overrides: dict[str, float]) -> None:
        self.session.rheobase_overrides = overrides
        self.overrides_changed.emit(dict(overrides))
        self.sc.changed.emit()
        self.sc.store.update_rheobase(self.session)  # the browser's amp_rel follow
        self._on_edit(rerun=True)

    def default_settings(self) -> ExtractionSettings:
        """Return the defaults of ``resources/defaults/settings.json``."""
        from efex_gui.resources import load_default

        return ExtractionSettings.from_dict(load_default("settings")["settings"])

    def with_settings(self, **changes: Any) -> ExtractionSettings:
        """Return a copy of the current settings with ``changes``."""
        return replace(self.settings, **changes)
