"""What the person does with QC flags and stimulus windows, on the session controller.

Kept beside :class:`~efex_gui.app.controller.SessionController` (which it drives
through its public, undoable operations) so the QC panel, the metadata panel and the
trace plot share one implementation:

* :func:`flagged_by_check` — the flagged sweeps grouped by check (the QC panel);
* :func:`exclude_flagged` — "Exclude all flagged by <check>": one undoable action
  whose reason names the check;
* :func:`set_qc_settings` — switch a check or change a threshold (the flags follow);
* :func:`apply_window` — a dragged stimulus window, written as the metadata's
  ``ton``/``toff`` of this sweep's file, this protocol in this cell, or this protocol
  in every cell (undoable; the sweeps are read again, so features, rheobase and plots
  follow).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from efex_gui.core.errors import MetadataError
from efex_gui.core.recordings.qc_settings import CHECKS, QCSettings

if TYPE_CHECKING:
    from efex_gui.core.session.dataset import EntryKey, SweepKey

__all__ = [
    "SCOPES",
    "WindowScope",
    "apply_window",
    "check_label",
    "exclude_flagged",
    "flagged_by_check",
    "set_qc_settings",
    "window_entries",
]

WindowScope = Literal["sweep", "protocol", "all_cells"]
#: The choices offered when a window is dropped, default first.
SCOPES: tuple[tuple[WindowScope, str], ...] = (
    ("protocol", "This protocol in this cell"),
    ("sweep", "This sweep (its file)"),
    ("all_cells", "This protocol in every cell"),
)
_LABELS = {c.name: c.label for c in CHECKS}


def check_label(check: str) -> str:
    """Return the label shown for a check."""
    return _LABELS.get(check, check)


def flagged_by_check(controller: Any) -> dict[str, list[SweepKey]]:
    """Check name → the sweeps it flags (in tree order), checks in table order."""
    groups: dict[str, list[SweepKey]] = {c.name: [] for c in CHECKS}
    for sweep, results in controller.store.qc.items():
        for result in results:
            if result.flagged:
                groups[result.check].append(sweep)
    return {name: sorted(sweeps) for name, sweeps in groups.items() if sweeps}


def exclude_flagged(controller: Any, check: str) -> int:
    """Exclude every sweep the check flags, as one undoable action; how many."""
    sweeps = flagged_by_check(controller).get(check, [])
    keys = list(dict.fromkeys(controller.exclusion_key(s) for s in sweeps))
    if keys:
        controller.set_excluded(keys, True, f"QC: {check_label(check)}")
    return len(keys)


def set_qc_settings(controller: Any, settings: QCSettings) -> None:
    """Use new QC settings (saved with the session); the flags are re-evaluated."""
    controller.session.qc = settings
    controller.store.update_qc()
    controller.changed.emit()


def window_entries(
    controller: Any, sweep: SweepKey, scope: WindowScope
) -> list[EntryKey]:
    """Return the entries a window dropped on ``sweep`` applies to, for ``scope``."""
    dataset = controller.dataset
    if scope == "sweep":
        return [sweep.entry_key]
    cells = [sweep.cell] if scope == "protocol" else dataset.cells()
    return [
        key
        for key in dataset.entry_keys()
        if key.protocol == sweep.protocol and key.cell in cells
    ]


def apply_window(
    controller: Any,
    sweep: SweepKey,
    ton: float,
    toff: float,
    scope: WindowScope = "protocol",
    duration: float | None = None,
) -> list[EntryKey]:
    """Set the stimulus window ``[ton, toff]`` (ms) of the sweeps ``scope`` names.

    Raises
    ------
    MetadataError
        The window is empty, reversed or outside the trace (``duration``, ms).
    """
    if not (0.0 <= ton < toff) or (duration is not None and toff > duration):
        end = f" (the trace lasts {duration:g} ms)" if duration is not None else ""
        raise MetadataError(
            f"The stimulus window {ton:g}-{toff:g} ms is outside the trace{end}: "
            "drag it inside the sweep, start before end."
        )
    keys = window_entries(controller, sweep, scope)
    controller.set_metadata(keys, {"ton": float(ton), "toff": float(toff)})
    return keys
