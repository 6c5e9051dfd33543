"""The part of the target check that needs recordings: sweeps within each window.

The matching follows the grouping stage exactly (spec §2.5, §5.3): rows of one
protocol and amplitude share one window, with the *first* row's tolerance; a sweep
counts when ``recording.in_target(amplitude, tolerance, absolute_amplitude)`` is true;
in relative mode cells without a rheobase are skipped. Sweep counts are an upper bound
of the final ``n``: a sweep whose feature value is NaN is not counted by the export.
Qt-free.
"""

from __future__ import annotations

import contextlib
import functools
import threading
import weakref
from array import array
from typing import TYPE_CHECKING, Any

import numpy as np

from efex_gui.core.targets.issues import ERROR, WARNING, TargetCoverage, TargetIssue

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

__all__ = ["Windows", "coverage", "coverage_issues", "row_label"]

#: (protocol, amplitude) → (first row's tolerance, rows)
Windows = dict[tuple[str, Any], tuple[float, list[int]]]


def row_label(index: int, target: Mapping[str, Any]) -> str:
    """``row 3 (AP_amplitude @ IDRest 150)``, for messages."""
    return (
        f"row {index + 1} ({target.get('efeature')} @ {target.get('protocol')} "
        f"{target.get('amplitude')})"
    )


def _matched_amplitudes(recordings: Sequence[Any], absolute: bool) -> np.ndarray:
    """Return the amplitude each recording is matched on (NaN: not interpretable).

    No amplitude, or no relative amplitude yet: NaN, in no window.
    """
    values = np.full(len(recordings), np.nan)
    for index, recording in enumerate(recordings):
        with contextlib.suppress(AttributeError, TypeError, ValueError):
            values[index] = float(recording.matched_amplitude(absolute))
    return values


class _CellAmplitudes:
    """Per cell, the matched amplitudes of its sweeps by protocol (memoised).

    Kept while the cell object, its rheobase, its recordings (the same objects) and
    the mode are the same: after an exclusion the extraction gives back the untouched
    cells as they were, and only the touched one is looked at again. Cells are held
    weakly (by identity: they need not be hashable).
    """

    def __init__(self) -> None:
        self._memo: dict[int, tuple[weakref.ref[Any], Any, list[Any]]] = {}
        self._lock = threading.Lock()

    def of(self, cell: Any, absolute: bool) -> list[tuple[str, np.ndarray]]:
        """Return ``[(protocol, amplitudes)]`` of the cell's sweeps, in order."""
        recordings = list(cell.recordings)
        # the recordings' identities in an array: a list of ints took 40 bytes a
        # sweep (an int object each), for every cell checked
        key = (absolute, cell.rheobase, array("Q", map(id, recordings)))
        with self._lock:
            known = self._memo.get(id(cell))
        if known is not None and known[0]() is cell and known[1] == key:
            return known[2]
        by_protocol: dict[str, list[Any]] = {}
        for recording in recordings:
            by_protocol.setdefault(recording.protocol_name, []).append(recording)
        found = [
            (protocol, _matched_amplitudes(sweeps, absolute))
            for protocol, sweeps in by_protocol.items()
        ]
        try:
            held = weakref.ref(cell)
        except TypeError:  # not weak-referenceable: not memoised
            return found
        with self._lock:
            self._memo = {k: v for k, v in self._memo.items() if v[0]() is not None}
            self._memo[id(cell)] = (held, key, found)
        return found


_CELL_AMPLITUDES = _CellAmplitudes()


def coverage(
    windows: Windows,
    cells: Sequence[Any],
    absolute_amplitude: bool,
    n_rows: int,
) -> list[TargetCoverage | None]:
    """Sweeps and cells within each window, for every row of the window.

    A sweep is in a window when ``|amplitude - matched amplitude| < tolerance``
    (strict), the rule of ``Recording.in_target``, computed for all the sweeps of a
    protocol at once.

    Parameters
    ----------
    windows : dict
        ``(protocol, amplitude) → (tolerance, rows)`` as the grouping uses them.
    cells : sequence of Cell
        Objects with ``name``, ``rheobase`` and ``recordings`` (each with
        ``protocol_name`` and ``matched_amplitude(absolute)``).
    absolute_amplitude : bool
        Match on ``amp`` (nA) instead of ``amp_rel`` (cells without a rheobase then
        count too).
    n_rows : int
        Number of target rows.

    Returns
    -------
    list
        Per row, its :class:`TargetCoverage` (None for rows in no window).
    """
    names: list[str] = []
    parts: dict[str, tuple[list[np.ndarray], list[np.ndarray]]] = {}
    for cell in cells:
        if cell.rheobase is None and not absolute_amplitude:
            continue
        for protocol, amplitudes in _CELL_AMPLITUDES.of(cell, absolute_amplitude):
            members, values = parts.setdefault(protocol, ([], []))
            members.append(np.full(len(amplitudes), len(names)))
            values.append(amplitudes)
        names.append(str(cell.name))
    matched = {
        protocol: (np.concatenate(members), np.concatenate(values))
        for protocol, (members, values) in parts.items()
    }
    result: list[TargetCoverage | None] = [None] * n_rows
    for (protocol, amplitude), (tolerance, rows) in windows.items():
        owners, amplitudes = matched.get(protocol, (np.zeros(0, int), np.zeros(0)))
        with np.errstate(invalid="ignore"):
            inside = np.abs(float(amplitude) - amplitudes) < float(tolerance)
        per_cell = np.bincount(owners[inside], minlength=len(names))
        contributing = tuple(names[i] for i in np.flatnonzero(per_cell))
        n_sweeps = int(np.count_nonzero(inside))
        for row in rows:
            result[row] = TargetCoverage(row, n_sweeps, contributing)
    return result


def coverage_issues(
    targets: Sequence[Mapping[str, Any]],
    coverage: list[TargetCoverage | None],
    cells: Sequence[Any],
    absolute_amplitude: bool,
    threshold_nvalue_save: int,
) -> list[TargetIssue]:
    """Return the issues the coverage of ``targets`` shows.

    Parameters
    ----------
    targets : Sequence of Mapping
        The target list, in table order.
    coverage : list of TargetCoverage or None
        The coverage of each target (:func:`coverage`), None to skip it.
    cells : Sequence
        The cells read, with their recordings.
    absolute_amplitude : bool
        Whether the targets' amplitudes are absolute (nA) or relative (% rheobase).
    threshold_nvalue_save : int
        The number of values a feature needs to be saved.

    Returns
    -------
    list of TargetIssue
        A missing rheobase first, then one issue per target row at most.
    """
    issues = []
    recorded = {
        protocol
        for cell in cells
        for protocol, _ in _CELL_AMPLITUDES.of(cell, absolute_amplitude)
    }
    no_rheobase = (
        not absolute_amplitude
        and cells
        and all(cell.rheobase is None for cell in cells)
    )
    if no_rheobase:
        issues.append(
            TargetIssue(
                ERROR,
                "no_rheobase",
                "No cell has a rheobase: in relative mode every target is unreachable. "
                "Check the rheobase protocols and strategy.",
                tuple(range(len(targets))),
            )
        )
    for row, cov in enumerate(coverage):
        if cov is None:
            continue
        target = targets[row]
        if target["protocol"] not in recorded:
            issues.append(_unknown_protocol(row, target, recorded))
        else:
            issue = _coverage_issue(
                row,
                target["efeature"],
                target["protocol"],
                target["amplitude"],
                target["tolerance"],
                cov.n_sweeps,
                threshold_nvalue_save,
                bool(no_rheobase),
            )
            if issue is not None:
                issues.append(issue)
    return issues


@functools.lru_cache(maxsize=1 << 16)
def _coverage_issue(
    row: int,
    efeature: Any,
    protocol: Any,
    amplitude: Any,
    tolerance: Any,
    n_sweeps: int,
    threshold_nvalue_save: int,
    no_rheobase: bool,
) -> TargetIssue | None:
    """Return the issue a row's sweep count gives (memoised: rows rarely change)."""
    label = row_label(
        row, {"efeature": efeature, "protocol": protocol, "amplitude": amplitude}
    )
    if n_sweeps == 0 and not no_rheobase:
        return TargetIssue(
            WARNING,
            "unreachable",
            f"{label}: no sweep within ± {tolerance}; the feature will be missing "
            "from the export.",
            (row,),
        )
    if 0 < n_sweeps < threshold_nvalue_save:
        return TargetIssue(
            WARNING,
            "below_threshold",
            f"{label}: at most {n_sweeps} value(s), fewer than "
            f"threshold_nvalue_save = {threshold_nvalue_save}; it will be dropped.",
            (row,),
        )
    if n_sweeps == 1:
        return TargetIssue(
            WARNING,
            "single_value",
            f"{label}: a single sweep matches; its std will be the default_std_value.",
            (row,),
        )
    return None


def _unknown_protocol(
    row: int, target: Mapping[str, Any], recorded: set[str]
) -> TargetIssue:
    near = sorted(p for p in recorded if p.lower() == str(target["protocol"]).lower())
    hint = f" (names are case-sensitive; did you mean {near[0]!r}?)" if near else ""
    return TargetIssue(
        ERROR,
        "unknown_protocol",
        f"{row_label(row, target)}: no loaded recording has the protocol "
        f"{target['protocol']!r}{hint}.",
        (row,),
    )
