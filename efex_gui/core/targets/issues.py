"""The outcome of a target check: issues, per-row coverage (plain data, Qt-free).

:func:`efex_gui.core.targets.check.check_targets` fills a :class:`TargetCheck`; the
GUI's target editor shows it (row colours, the issue list, the n column).
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["ERROR", "INFO", "WARNING", "TargetCheck", "TargetCoverage", "TargetIssue"]

ERROR = "error"
WARNING = "warning"
INFO = "info"


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
        """Return the issues that concern target ``row``."""
        return [issue for issue in self.issues if row in issue.rows]

    def worst_severity(self, row: int) -> str | None:
        """``"error"``, ``"warning"``, ``"info"`` or None for target ``row``."""
        found = {issue.severity for issue in self.issues_for(row)}
        for severity in (ERROR, WARNING, INFO):
            if severity in found:
                return severity
        return None

    def kinds(self) -> set[str]:
        """Return the kinds of all issues (handy in tests)."""
        return {issue.kind for issue in self.issues}
