"""Check a target list against the loaded recordings, before any extraction.

:func:`check_targets` answers, for every target row, the questions a user has before
pressing *Extract*: is the row valid, does efel know the feature, is the protocol
recorded, how many sweeps (and cells) fall within the tolerance, will the feature be
dropped (``n < threshold_nvalue_save``) or get the default standard deviation
(``n = 1``), and do rows interfere with each other (overlapping tolerance windows, a
tolerance ignored because another row of the same protocol and amplitude came first,
one output name computed with two different efel settings, duplicated rows).

The matching with recordings lives in :mod:`efex_gui.core.targets.coverage`, the
result types in :mod:`efex_gui.core.targets.issues` (re-exported here).

Qt-free: the GUI shows the result in its check panel.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from efex_gui.core.features import efel_feature_names, efel_settings_names
from efex_gui.core.memo import LastInputMemo
from efex_gui.core.targets.coverage import Windows, coverage_issues, row_label
from efex_gui.core.targets.coverage import coverage as compute_coverage
from efex_gui.core.targets.issues import (
    ERROR,
    INFO,
    WARNING,
    TargetCheck,
    TargetCoverage,
    TargetIssue,
)

__all__ = [
    "TargetCheck",
    "TargetCoverage",
    "TargetIssue",
    "check_target_row",
    "check_targets",
]

_REQUIRED = ("efeature", "protocol", "amplitude", "tolerance")


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
    elif "tolerance" in target and tolerance is not None and tolerance <= 0:
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


def _static_issues(
    targets: Sequence[Any], known_features: set[str]
) -> list[TargetIssue]:
    """Row-level issues that need no recording."""
    issues = []
    setting_names = set(efel_settings_names()) | {"stim_start", "stim_end"}
    for index, target in enumerate(targets):
        problems = check_target_row(target)
        if problems:
            label = (
                row_label(index, target)
                if isinstance(target, Mapping)
                else (f"row {index + 1}")
            )
            issues.append(
                TargetIssue(
                    ERROR, "invalid", f"{label}: {'; '.join(problems)}.", (index,)
                )
            )
            continue
        if target["efeature"] not in known_features:
            issues.append(
                TargetIssue(
                    ERROR,
                    "unknown_feature",
                    f"{row_label(index, target)}: efel has no feature named "
                    f"{target['efeature']!r}.",
                    (index,),
                )
            )
        unknown = sorted(set(target.get("efel_settings", {})) - setting_names)
        if unknown:
            issues.append(
                TargetIssue(
                    WARNING,
                    "unknown_setting",
                    f"{row_label(index, target)}: efel has no setting named "
                    f"{', '.join(map(repr, unknown))}.",
                    (index,),
                )
            )
    return issues


def _windows(targets: Sequence[Mapping[str, Any]], valid: list[bool]) -> Windows:
    """(protocol, amplitude) → (first row's tolerance, rows), as grouping does."""
    windows: Windows = {}
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
    windows: Windows,
) -> list[TargetIssue]:
    """Ignored tolerances, overlapping windows, name collisions, duplicates."""
    issues = []
    for (protocol, amplitude), (tolerance, rows) in windows.items():
        ignored = [r for r in rows if targets[r]["tolerance"] != tolerance]
        if ignored:
            issues.append(
                TargetIssue(
                    WARNING,
                    "tolerance_ignored",
                    f"{protocol} {amplitude}: rows {_rows(ignored)} have a tolerance "
                    f"different from row {rows[0] + 1}'s ({tolerance}); the first "
                    "row's tolerance is used for every feature of this protocol and "
                    "amplitude.",
                    tuple(rows),
                )
            )
    keys = list(windows)
    for i, (protocol_a, amp_a) in enumerate(keys):
        for protocol_b, amp_b in keys[i + 1 :]:
            if protocol_a != protocol_b:
                continue
            tol_a, rows_a = windows[(protocol_a, amp_a)]
            tol_b, rows_b = windows[(protocol_b, amp_b)]
            if abs(amp_a - amp_b) < tol_a + tol_b:
                issues.append(
                    TargetIssue(
                        WARNING,
                        "overlap",
                        f"{protocol_a}: the windows {amp_a} ± {tol_a} and {amp_b} ± "
                        f"{tol_b} overlap; a sweep between them counts for both.",
                        tuple(rows_a + rows_b),
                    )
                )
    issues += _name_issues(targets, windows)
    return issues


def _name_issues(
    targets: Sequence[Mapping[str, Any]],
    windows: Windows,
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
            issues.append(
                TargetIssue(
                    WARNING,
                    "name_collision",
                    f"{protocol}: {name!r} is requested with different efel settings "
                    f"in rows {_rows(rows)}; the values of the last settings would be "
                    "reported for all of them. Give them distinct efeature names.",
                    tuple(rows),
                )
            )
        seen: dict[tuple[Any, str], int] = {}
        for row in rows:
            target = targets[row]
            key = (
                target["amplitude"],
                repr(sorted(target.get("efel_settings", {}).items())),
            )
            if key in seen:
                issues.append(
                    TargetIssue(
                        INFO,
                        "duplicate",
                        f"row {row + 1} repeats row {seen[key] + 1} "
                        f"({name} @ {protocol} {target['amplitude']}).",
                        (seen[key], row),
                    )
                )
            else:
                seen[key] = row
    return issues


#: the checks of the last target list that need no recording, reused while it is
#: equal: the GUI checks the same 1 500 rows again after every exclusion
_ROWS_MEMO: LastInputMemo[tuple[Windows, list[TargetIssue]]] = LastInputMemo()


def _checked_rows(
    targets: Sequence[Mapping[str, Any]], features: frozenset[str]
) -> tuple[Windows, list[TargetIssue]]:
    """Return the windows and the issues found without recordings (memoised)."""

    def check() -> tuple[Windows, list[TargetIssue]]:
        valid = [not check_target_row(target) for target in targets]
        issues = _static_issues(targets, set(features))
        windows = _windows(targets, valid)
        return windows, issues + _interference_issues(targets, windows)

    return _ROWS_MEMO.get(([dict(t) for t in targets], features), check)


def _rows(rows: Iterable[int]) -> str:
    return ", ".join(str(r + 1) for r in rows)


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
    features = frozenset(
        efel_feature_names() if known_features is None else known_features
    )
    windows, static = _checked_rows(targets, features)
    issues = list(static)
    coverage: list[TargetCoverage | None] = [None] * len(targets)
    if cells is not None:
        cells = list(cells)
        coverage = compute_coverage(windows, cells, absolute_amplitude, len(targets))
        issues += coverage_issues(
            targets, coverage, cells, absolute_amplitude, threshold_nvalue_save
        )
    rank = {ERROR: 0, WARNING: 1, INFO: 2}
    issues.sort(key=lambda issue: (rank[issue.severity], min(issue.rows, default=-1)))
    return TargetCheck(coverage=coverage, issues=issues)
