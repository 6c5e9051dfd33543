"""Check a target list against the loaded recordings, before any extraction.

:func:`check_targets` answers, for every target row, the questions a user has before
pressing *Extract*: is the row valid, does efel know the feature, is the protocol
recorded, how many sweeps (and cells) fall within the tolerance, will the feature be
dropped (``n < threshold_nvalue_save``) or get the default standard deviation
(``n = 1``), and do rows interfere with each other (overlapping tolerance windows, a
tolerance ignored because another row of the same protocol and amplitude came first,
one output name computed with two different efel settings, duplicated rows).

The matching follows the grouping stage exactly (spec §2.5, §5.3): rows of one
protocol and amplitude share one window, with the *first* row's tolerance; a sweep
counts when ``recording.in_target(amplitude, tolerance, absolute_amplitude)`` is true;
in relative mode cells without a rheobase are skipped. Sweep counts are an upper bound
of the final ``n``: a sweep whose feature value is NaN is not counted by the export.

Qt-free: the GUI shows the result in its check panel.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from efex_gui.core.features import efel_feature_names, efel_settings_names

__all__ = [
    "TargetCheck",
    "TargetCoverage",
    "TargetIssue",
    "check_target_row",
    "check_targets",
]

ERROR = "error"
WARNING = "warning"
INFO = "info"

_REQUIRED = ("efeature", "protocol", "amplitude", "tolerance")


@dataclass(frozen=True)
class TargetIssue:
    """One problem found in the target list.

    Parameters
    ----------
    severity : str
        ``"error"`` (the run would fail or the row is impossible), ``"warning"``
        (the row will not give what the user probably wants) or ``"info"``.
    kind : str
        A stable short name (``"invalid"``, ``"unknown_feature"``, ``"unreachable"``,
        ``"single_value"``, ``"overlap"``, ...), for tests and filtering.
    message : str
        A sentence naming the rows, protocol and feature concerned.
    rows : tuple of int
        Indices of the targets concerned.
    """

    severity: str
    kind: str
    message: str
    rows: tuple[int, ...]


@dataclass(frozen=True)
class TargetCoverage:
    """How many sweeps and cells fall within one target's window.

    Parameters
    ----------
    row : int
        Index of the target.
    n_sweeps : int
        Sweeps of the protocol within the window (an upper bound of the final ``n``).
    cells : tuple of str
        Names of the cells contributing at least one sweep.
    """

    row: int
    n_sweeps: int
    cells: tuple[str, ...]

    @property
    def n_cells(self) -> int:
        """Number of contributing cells."""
        return len(self.cells)


@dataclass
class TargetCheck:
    """The outcome of :func:`check_targets`.

    Parameters
    ----------
    coverage : list
        Per row, a :class:`TargetCoverage`, or None when it cannot be known (invalid
        row, or no recordings given).
    issues : list of TargetIssue
        Problems, in row order.
    """

    coverage: list[TargetCoverage | None] = field(default_factory=list)
    issues: list[TargetIssue] = field(default_factory=list)

    @property
    def has_errors(self) -> bool:
        """Whether any issue is an error."""
        return any(issue.severity == ERROR for issue in self.issues)

    def issues_for(self, row: int) -> list[TargetIssue]:
        """The issues that concern target ``row``."""
        return [issue for issue in self.issues if row in issue.rows]

    def worst_severity(self, row: int) -> str | None:
        """``"error"``, ``"warning"``, ``"info"`` or None for target ``row``."""
        found = {issue.severity for issue in self.issues_for(row)}
        for severity in (ERROR, WARNING, INFO):
            if severity in found:
                return severity
        return None

    def kinds(self) -> set[str]:
        """The kinds of all issues (handy in tests)."""
        return {issue.kind for issue in self.issues}


def _is_number(value: Any) -> bool:
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(value)
    )


def check_target_row(target: Any) -> list[str]:
    """Return what makes one target row impossible (empty when it is valid).

    Parameters
    ----------
    target : dict
        A target dict (``efeature``, ``protocol``, ``amplitude``, ``tolerance``,
        optional ``efel_settings``, ``efeature_name``).

    Returns
    -------
    list of str
        One sentence per problem.
    """
    if not isinstance(target, Mapping):
        return [f"a target must be a dict, not {type(target).__name__}"]
    problems = [f"the key {key!r} is missing" for key in _REQUIRED if key not in target]
    for key in ("efeature", "protocol"):
        if key in target and (not isinstance(target[key], str) or not target[key]):
            problems.append(f"{key!r} must be a non-empty name")
    if "amplitude" in target and not _is_number(target["amplitude"]):
        problems.append(f"amplitude {target['amplitude']!r} is not a finite number")
    tolerance = target.get("tolerance")
    if "tolerance" in target and not _is_number(tolerance):
        problems.append(f"tolerance {tolerance!r} is not a finite number")
    elif "tolerance" in target and tolerance <= 0:
        problems.append(
            f"tolerance {tolerance} must be > 0 (the match is strict: "
            "|amplitude - target| < tolerance)"
        )
    settings = target.get("efel_settings", {})
    if not isinstance(settings, Mapping):
        problems.append("'efel_settings' must be a dict")
    name = target.get("efeature_name")
    if name is not None and (not isinstance(name, str) or not name):
        problems.append("'efeature_name' must be a non-empty name")
    return problems


def _label(index: int, target: Mapping[str, Any]) -> str:
    return (
        f"row {index + 1} ({target.get('efeature')} @ {target.get('protocol')} "
        f"{target.get('amplitude')})"
    )


def _static_issues(
    targets: Sequence[Any], known_features: set[str]
) -> list[TargetIssue]:
    """Row-level issues that need no recording."""
    issues = []
    setting_names = set(efel_settings_names()) | {"stim_start", "stim_end"}
    for index, target in enumerate(targets):
        problems = check_target_row(target)
        if problems:
            label = _label(index, target) if isinstance(target, Mapping) else (
                f"row {index + 1}")
            issues.append(TargetIssue(
                ERROR, "invalid", f"{label}: {'; '.join(problems)}.", (index,)))
            continue
        if target["efeature"] not in known_features:
            issues.append(TargetIssue(
                ERROR, "unknown_feature",
                f"{_label(index, target)}: efel has no feature named "
                f"{target['efeature']!r}.", (index,)))
        unknown = sorted(set(target.get("efel_settings", {})) - setting_names)
        if unknown:
            issues.append(TargetIssue(
                WARNING, "unknown_setting",
                f"{_label(index, target)}: efel has no setting named "
                f"{', '.join(map(repr, unknown))}.", (index,)))
    return issues


def _windows(
    targets: Sequence[Mapping[str, Any]], valid: list[bool]
) -> dict[tuple[str, Any], tuple[float, list[int]]]:
    """(protocol, amplitude) → (first row's tolerance, rows), as grouping does."""
    windows: dict[tuple[str, Any], tuple[float, list[int]]] = {}
    for index, target in enumerate(targets):
        if not valid[index]:
            continue
        key = (target["protocol"], target["amplitude"])
        if key not in windows:
            windows[key] = (target["tolerance"], [])
        windows[key][1].append(index)
    return windows


def _interference_issues(
    targets: Sequence[Mapping[str, Any]],
    windows: dict[tuple[str, Any], tuple[float, list[int]]],
) -> list[TargetIssue]:
    """Ignored tolerances, overlapping windows, name collisions, duplicates."""
    issues = []
    for (protocol, amplitude), (tolerance, rows) in windows.items():
        ignored = [r for r in rows if targets[r]["tolerance"] != tolerance]
        if ignored:
            issues.append(TargetIssue(
                WARNING, "tolerance_ignored",
                f"{protocol} {amplitude}: rows {_rows(ignored)} have a tolerance "
                f"different from row {rows[0] + 1}'s ({tolerance}); the first row's "
                "tolerance is used for every feature of this protocol and amplitude.",
                tuple(rows)))
    keys = list(windows)
    for i, (protocol_a, amp_a) in enumerate(keys):
        for protocol_b, amp_b in keys[i + 1:]:
            if protocol_a != protocol_b:
                continue
            tol_a, rows_a = windows[(protocol_a, amp_a)]
            tol_b, rows_b = windows[(protocol_b, amp_b)]
            if abs(amp_a - amp_b) < tol_a + tol_b:
                issues.append(TargetIssue(
                    WARNING, "overlap",
                    f"{protocol_a}: the windows {amp_a} ± {tol_a} and {amp_b} ± "
                    f"{tol_b} overlap; a sweep between them counts for both.",
                    tuple(rows_a + rows_b)))
    issues += _name_issues(targets, windows)
    return issues


def _name_issues(
    targets: Sequence[Mapping[str, Any]],
    windows: dict[tuple[str, Any], tuple[float, list[int]]],
) -> list[TargetIssue]:
    issues = []
    by_name: dict[tuple[str, str], list[int]] = {}
    for _, rows in windows.values():
        for row in rows:
            target = targets[row]
            name = target.get("efeature_name") or target["efeature"]
            by_name.setdefault((target["protocol"], name), []).append(row)
    for (protocol, name), rows in by_name.items():
        settings = [targets[r].get("efel_settings", {}) for r in rows]
        if any(s != settings[0] for s in settings[1:]):
            issues.append(TargetIssue(
                WARNING, "name_collision",
                f"{protocol}: {name!r} is requested with different efel settings in "
                f"rows {_rows(rows)}; the values of the last settings would be "
                "reported for all of them. Give them distinct efeature names.",
                tuple(rows)))
        seen: dict[tuple[Any, str], int] = {}
        for row in rows:
            target = targets[row]
            key = (target["amplitude"], repr(sorted(
                target.get("efel_settings", {}).items())))
            if key in seen:
                issues.append(TargetIssue(
                    INFO, "duplicate",
                    f"row {row + 1} repeats row {seen[key] + 1} ({name} @ {protocol} "
                    f"{target['amplitude']}).", (seen[key], row)))
            else:
                seen[key] = row
    return issues


def _rows(rows: Iterable[int]) -> str:
    return ", ".join(str(r + 1) for r in rows)


def _in_window(recording: Any, amplitude: Any, tolerance: Any, absolute: bool) -> bool:
    try:
        return bool(recording.in_target(amplitude, tolerance, absolute))
    except (AttributeError, TypeError, ValueError):
        # not interpretable (no amplitude, no relative amplitude yet)
        return False


def _coverage(
    windows: dict[tuple[str, Any], tuple[float, list[int]]],
    cells: Sequence[Any],
    absolute_amplitude: bool,
    n_rows: int,
) -> list[TargetCoverage | None]:
    coverage: list[TargetCoverage | None] = [None] * n_rows
    for (protocol, amplitude), (tolerance, rows) in windows.items():
        n_sweeps = 0
        contributing = []
        for cell in cells:
            if cell.rheobase is None and not absolute_amplitude:
                continue
            matched = [
                rec for rec in cell.recordings
                if rec.protocol_name == protocol
                and _in_window(rec, amplitude, tolerance, absolute_amplitude)
            ]
            n_sweeps += len(matched)
            if matched:
                contributing.append(str(cell.name))
        for row in rows:
            coverage[row] = TargetCoverage(row, n_sweeps, tuple(contributing))
    return coverage


def _coverage_issues(
    targets: Sequence[Mapping[str, Any]],
    coverage: list[TargetCoverage | None],
    cells: Sequence[Any],
    absolute_amplitude: bool,
    threshold_nvalue_save: int,
) -> list[TargetIssue]:
    issues = []
    recorded = {rec.protocol_name for cell in cells for rec in cell.recordings}
    no_rheobase = (not absolute_amplitude and cells
                   and all(cell.rheobase is None for cell in cells))
    if no_rheobase:
        issues.append(TargetIssue(
            ERROR, "no_rheobase",
            "No cell has a rheobase: in relative mode every target is unreachable. "
            "Check the rheobase protocols and strategy.",
            tuple(range(len(targets)))))
    for row, cov in enumerate(coverage):
        if cov is None:
            continue
        target = targets[row]
        if target["protocol"] not in recorded:
            issues.append(_unknown_protocol(row, target, recorded))
        elif cov.n_sweeps == 0 and not no_rheobase:
            issues.append(TargetIssue(
                WARNING, "unreachable",
                f"{_label(row, target)}: no sweep within ± {target['tolerance']}; "
                "the feature will be missing from the export.", (row,)))
        elif 0 < cov.n_sweeps < threshold_nvalue_save:
            issues.append(TargetIssue(
                WARNING, "below_threshold",
                f"{_label(row, target)}: at most {cov.n_sweeps} value(s), fewer than "
                f"threshold_nvalue_save = {threshold_nvalue_save}; it will be dropped.",
                (row,)))
        elif cov.n_sweeps == 1:
            issues.append(TargetIssue(
                WARNING, "single_value",
                f"{_label(row, target)}: a single sweep matches; its std will be the "
                "default_std_value.", (row,)))
    return issues


def _unknown_protocol(
    row: int, target: Mapping[str, Any], recorded: set[str]
) -> TargetIssue:
    near = sorted(p for p in recorded if p.lower() == str(target["protocol"]).lower())
    hint = f" (names are case-sensitive; did you mean {near[0]!r}?)" if near else ""
    return TargetIssue(
        ERROR, "unknown_protocol",
        f"{_label(row, target)}: no loaded recording has the protocol "
        f"{target['protocol']!r}{hint}.", (row,))


def check_targets(
    targets: Sequence[Any],
    cells: Sequence[Any] | None = None,
    *,
    absolute_amplitude: bool = False,
    threshold_nvalue_save: int = 1,
    known_features: Iterable[str] | None = None,
) -> TargetCheck:
    """Check a target list, and count its matches when recordings are given.

    Parameters
    ----------
    targets : sequence of dict
        The target rows, in order.
    cells : sequence of Cell, optional
        Objects with ``name``, ``recordings`` and ``rheobase`` (relative amplitudes
        already computed, i.e. after the core's ``compute_rheobase``). Without them
        only the checks that need no recording are made.
    absolute_amplitude : bool
        Amplitudes in nA instead of % of rheobase.
    threshold_nvalue_save : int
        Targets with fewer values are dropped from the export.
    known_features : iterable of str, optional
        efel's feature names (default: ``efel_feature_names()``).

    Returns
    -------
    TargetCheck
        Coverage per row and the issues found.
    """
    features = set(efel_feature_names() if known_features is None else known_features)
    valid = [not check_target_row(target) for target in targets]
    issues = _static_issues(targets, features)
    windows = _windows(targets, valid)
    issues += _interference_issues(targets, windows)
    coverage: list[TargetCoverage | None] = [None] * len(targets)
    if cells is not None:
        cells = list(cells)
        coverage = _coverage(windows, cells, absolute_amplitude, len(targets))
        issues += _coverage_issues(
            targets, coverage, cells, absolute_amplitude, threshold_nvalue_save)
    rank = {ERROR: 0, WARNING: 1, INFO: 2}
    issues.sort(key=lambda issue: (rank[issue.severity], min(issue.rows, default=-1)))
    return TargetCheck(coverage=coverage, issues=issues)
