"""What the browser shows for one sweep: its summary, status and QC flag lines."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from efex_gui.core.recordings.sweep_qc import QCResult, flagged

if TYPE_CHECKING:
    from collections.abc import Sequence

    from efex_gui.core.session.dataset import EntryState


@dataclass(frozen=True)
class SweepSummary:
    """What the browser shows for one sweep."""

    name: str
    file: str
    amp: float | None = None
    amp_rel: float | None = None
    spikecount: int | None = None
    status: str = "not read"
    reason: str = ""
    warnings: tuple[str, ...] = ()
    #: QC flags: one "label: value > threshold unit" line per flagging check
    flags: tuple[str, ...] = ()


def flag_lines(results: Sequence[QCResult]) -> tuple[str, ...]:
    """Return one "label: value > threshold unit" line per check flagging a sweep."""
    from efex_gui.core.recordings.qc_settings import CHECKS

    checks = {c.name: c for c in CHECKS}
    return tuple(
        f"{checks[r.check].label}: {r.value:.3g} > {r.threshold:.3g} "
        f"{checks[r.check].unit}"
        for r in flagged(results)
    )


def sweep_status(
    state: EntryState,
    index: int | None,
    reason: str | None,
    refused: bool,
    flags: tuple[str, ...],
) -> tuple[str, str]:
    """Return a sweep's status and why, the most serious first.

    Parameters
    ----------
    state : EntryState
        What is known of the sweep's entry.
    index : int or None
        The sweep's trace in its entry (None: the entry is not read).
    reason : str or None
        The reason of the exclusion covering the sweep (None: not excluded).
    refused : bool
        Whether the entry was read but is not a current-clamp recording.
    flags : tuple of str
        The QC flag lines of the sweep (:func:`flag_lines`).

    Returns
    -------
    tuple of (str, str)
        "refused", "unreadable", "error", "excluded", "flagged", "ok" or "not read",
        and the reason shown beside it.
    """
    if state.error is not None:
        return ("refused" if refused else "unreadable"), state.error
    if index is not None and index in state.trace_errors:
        return "error", state.trace_errors[index]
    if reason is not None:
        return "excluded", reason
    if not state.n_traces:
        return "not read", ""
    if flags:
        return "flagged", ", ".join(f.split(":")[0] for f in flags)
    return "ok", ""


def number_or_none(value: Any) -> float | None:
    """Return ``value`` as a float, None when it is None or not a number."""
    try:
        return None if value is None else float(value)
    except (TypeError, ValueError):
        return None
