"""TargetTableModel: a Qt table adapter over the session's target list.

The model is a view of the list the :class:`ExtractionController` owns: it keeps a
copy to answer ``data()``, and every edit builds a new list and hands it to a
``commit`` callback (the controller's ``set_targets``, an undoable command). The
controller's ``targets_changed`` signal then refreshes the model. Impossible values are
refused in ``setData`` with the reason sent through :attr:`edit_refused`.

Columns: feature, protocol, amplitude, tolerance, efel settings, output name, and the
read-only match count of the live target check.
"""

from __future__ import annotations

import copy
import json
import math
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import (
    Qt,
    Signal,
)
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import QApplication, QStyle

from efex_gui.core.features import describe_feature, efel_settings_names
from efex_gui.core.targets.check import TargetCheck, check_target_row
from efex_gui.widgets.table_models import FlatTableModel, Index

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Sequence


#: (target key, header) per column; "matches" is computed, not a target key
COLUMNS: list[tuple[str, str]] = [
    ("efeature", "Feature"),
    ("protocol", "Protocol"),
    ("amplitude", "Amplitude"),
    ("tolerance", "Tolerance"),
    ("efel_settings", "efel settings"),
    ("efeature_name", "Output name"),
    ("matches", "Matches"),
]
COLUMN = {key: i for i, (key, _) in enumerate(COLUMNS)}
_ICONS = {
    "error": QStyle.StandardPixmap.SP_MessageBoxCritical,
    "warning": QStyle.StandardPixmap.SP_MessageBoxWarning,
    "info": QStyle.StandardPixmap.SP_MessageBoxInformation,
}
#: header tooltips, per column key
HEADER_TIPS = {
    "efeature": "efel feature name (double-click to edit, with completion)",
    "protocol": "Protocol of the recordings the feature is computed on",
    "amplitude": "Target stimulus amplitude: % of the cell's rheobase, or nA in "
    "absolute mode (Settings)",
    "tolerance": "A sweep matches when |amplitude - target| < tolerance (same unit "
    "as the amplitude)",
    "efel_settings": "efel settings of this target only (name=value, ...); they "
    "override the global ones",
    "efeature_name": "Name in features.json (default: the efel name); needed when "
    "one feature is used with two settings",
    "matches": "Sweeps (and cells) within the tolerance, counted on the last run or "
    "once every file is read",
}


class EditRefusedError(ValueError):
    """A value typed in a cell is impossible (the message says why)."""


def format_settings(settings: dict[str, Any] | None) -> str:
    """``{"Threshold": -10}`` → ``"Threshold=-10"`` (pairs separated by ``, ``)."""
    return ", ".join(f"{k}={json.dumps(v)}" for k, v in (settings or {}).items())


def parse_settings(text: str) -> dict[str, Any]:
    """Parse ``"Threshold=-10, interp_step=0.1"`` or a JSON object.

    Raises
    ------
    EditRefusedError
        Unparsable text or an efel setting name efel does not know.
    """
    text = text.strip()
    if not text:
        return {}
    if text.startswith("{"):
        try:
            settings = json.loads(text)
        except json.JSONDecodeError as exc:
            message = f"efel settings: not a JSON object ({exc})."
            raise EditRefusedError(message) from exc
        if not isinstance(settings, dict):
            raise EditRefusedError("efel settings: a JSON object is expected.")
    else:
        settings = {}
        for part in text.replace(";", ",").split(","):
            if not part.strip():
                continue
            name, sep, value = part.partition("=")
            if not sep or not name.strip():
                raise EditRefusedError(
                    f"efel settings: write name=value pairs, not {part.strip()!r}."
                )
            settings[name.strip()] = _parse_value(value.strip())
    known = set(efel_settings_names()) | {"stim_start", "stim_end"}
    unknown = sorted(set(settings) - known)
    if unknown:
        raise EditRefusedError(f"efel has no setting named {', '.join(unknown)}.")
    return settings


def _parse_value(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def parse_number(text: Any, what: str) -> float | int:
    """Parse a finite number from a cell's text (ints stay ints, as in BluePyEfe)."""
    if isinstance(text, int | float) and not isinstance(text, bool):
        value: float | int = text
    else:
        try:
            value = int(str(text).strip())
        except ValueError:
            try:
                value = float(str(text).strip())
            except ValueError:
                raise EditRefusedError(f"{what}: {text!r} is not a number.") from None
    if not math.isfinite(value):
        raise EditRefusedError(f"{what} must be a finite number.")
    return value


class TargetTableModel(FlatTableModel):
    """Table of targets: one row per target dict.

    Parameters
    ----------
    commit : callable
        ``commit(new_targets, text)`` stores an edited list (undoably).
    parent : QObject, optional
        Qt parent.
    """

    #: an edit was refused (the reason)
    edit_refused = Signal(str)

    def __init__(
        self,
        commit: Callable[[list[dict[str, Any]], str], None],
        parent: Any = None,
    ) -> None:
        super().__init__(parent)
        self._commit = commit
        self._targets: list[dict[str, Any]] = []
        self._check = TargetCheck()
        self.read_only = False
        #: amplitudes in nA (absolute mode) rather than % of the rheobase
        self.absolute = False
        self._icons: dict[str, Any] = {}

    # --- refresh from the controller -----------------------------------------------
    def set_targets(self, targets: Sequence[dict[str, Any]], read_only: bool) -> None:
        """Show ``targets`` (a copy); ``dataChanged`` only when the rows match."""
        rows = copy.deepcopy(list(targets))
        if len(rows) == len(self._targets) and read_only == self.read_only:
            self._targets = rows
            self.all_changed()
            return
        self.beginResetModel()
        self._targets, self.read_only = rows, read_only
        self.endResetModel()

    def set_check(self, check: TargetCheck) -> None:
        """Show the coverage and issues of a target check."""
        self._check = check
        self.all_changed()

    def targets(self) -> list[dict[str, Any]]:
        """Return a copy of the targets shown."""
        return copy.deepcopy(self._targets)

    # --- Qt model API -------------------------------------------------------------
    column_total = len(COLUMNS)

    def row_total(self) -> int:
        """Return the number of targets."""
        return len(self._targets)

    def row_header(self, section: int, role: int) -> Any:
        """Return the row numbers, from 1."""
        return str(section + 1) if role == Qt.ItemDataRole.DisplayRole else None

    def column_header(self, section: int, role: int) -> Any:
        """Return the column titles (with the amplitude unit) and tooltips."""
        if role == Qt.ItemDataRole.ToolTipRole:
            return HEADER_TIPS.get(COLUMNS[section][0])
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        key, header = COLUMNS[section]
        if key in ("amplitude", "tolerance"):
            return f"{header} ({'nA' if self.absolute else '%'})"
        return header

    def set_absolute(self, absolute: bool) -> None:
        """Show amplitudes and tolerances in nA (True) or % of the rheobase."""
        if absolute != self.absolute:
            self.absolute = absolute
            self.headerDataChanged.emit(Qt.Orientation.Horizontal, 0, len(COLUMNS) - 1)

    def flags(self, index: Index) -> Qt.ItemFlag:
        """Return the flags of a cell: editable unless read-only or "matches"."""
        flags = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
        if not self.read_only and COLUMNS[index.column()][0] != "matches":
            flags |= Qt.ItemFlag.ItemIsEditable
        return flags

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        """Return the text, tooltip or colour of a cell for ``role``."""
        if not index.isValid():
            return None
        row, key = index.row(), COLUMNS[index.column()][0]
        target = self._targets[row]
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.EditRole):
            return self._text(row, key, target)
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(row, key, target)
        if role == Qt.ItemDataRole.DecorationRole and key == "efeature":
            severity = self._check.worst_severity(row)
            if severity is not None:
                return self._icon(severity)
        if role == Qt.ItemDataRole.ForegroundRole and self.read_only:
            return QBrush(QColor("gray"))
        if role == Qt.ItemDataRole.TextAlignmentRole and key in (
            "amplitude",
            "tolerance",
            "matches",
        ):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def _icon(self, severity: str) -> Any:
        if severity not in self._icons:
            self._icons[severity] = QApplication.style().standardIcon(_ICONS[severity])
        return self._icons[severity]

    def _text(self, row: int, key: str, target: dict[str, Any]) -> str:
        if key == "matches":
            coverage = (
                self._check.coverage[row] if row < len(self._check.coverage) else None
            )
            if coverage is None:
                return "—"
            return f"{coverage.n_sweeps} sweeps / {coverage.n_cells} cells"
        if key == "efel_settings":
            return format_settings(target.get("efel_settings"))
        value = target.get(key)
        return "" if value is None else str(value)

    def _tooltip(self, row: int, key: str, target: dict[str, Any]) -> str | None:
        lines = [issue.message for issue in self._check.issues_for(row)]
        if key == "efeature" and target.get("efeature"):
            lines.insert(0, describe_feature(str(target["efeature"])))
        if key == "matches":
            coverage = (
                self._check.coverage[row] if row < len(self._check.coverage) else None
            )
            if coverage is None:
                lines.insert(
                    0,
                    "Not counted yet: press Extract, or read every "
                    "file (View ▸ Read all sweeps).",
                )
            elif coverage.cells:
                lines.insert(0, "Cells: " + ", ".join(coverage.cells))
        return "\n".join(line for line in lines if line) or None

    def setData(
        self, index: Index, value: Any, role: int = Qt.ItemDataRole.EditRole
    ) -> bool:
        """Set the value typed into a cell (see :meth:`set_values`)."""
        if role != Qt.ItemDataRole.EditRole or not index.isValid() or self.read_only:
            return False
        return self.set_values([index.row()], index.column(), value)

    # --- edits ------------------------------------------------------------------------
    def set_values(self, rows: Iterable[int], column: int, value: Any) -> bool:
        """Set one column of several rows to ``value`` in one undoable edit."""
        key = COLUMNS[column][0]
        rows = sorted(set(rows))
        try:
            parsed = self._parse(key, value)
            targets = self.targets()
            for row in rows:
                _assign(targets[row], key, parsed)
                problems = check_target_row(targets[row])
                if problems:
                    raise EditRefusedError(f"Row {row + 1}: {'; '.join(problems)}.")
        except EditRefusedError as exc:
            self.edit_refused.emit(str(exc))
            return False
        if targets != self._targets:
            header = COLUMNS[column][1].lower()
            self._commit(targets, f"Set {header} of {len(rows)} target(s)")
        return True

    @staticmethod
    def _parse(key: str, value: Any) -> Any:
        if key in ("amplitude", "tolerance"):
            number = parse_number(value, key)
            if key == "tolerance" and number <= 0:
                raise EditRefusedError("tolerance must be > 0 (the match is strict).")
            return number
        if key == "efel_settings":
            return value if isinstance(value, dict) else parse_settings(str(value))
        text = str(value).strip()
        if key in ("efeature", "protocol") and not text:
            raise EditRefusedError(f"{key} cannot be empty.")
        return text

    def add(self, target: dict[str, Any], at: int | None = None) -> None:
        """Insert ``target`` at row ``at`` (end by default)."""
        targets = self.targets()
        targets.insert(len(targets) if at is None else at, copy.deepcopy(target))
        self._commit(targets, "Add a target")

    def remove(self, rows: Iterable[int]) -> None:
        """Remove the given rows."""
        drop = set(rows)
        if drop:
            targets = [t for i, t in enumerate(self._targets) if i not in drop]
            self._commit(copy.deepcopy(targets), f"Remove {len(drop)} target(s)")

    def duplicate(self, rows: Iterable[int]) -> None:
        """Insert a copy of each row after the last selected one."""
        rows = sorted(set(rows))
        if rows:
            targets = self.targets()
            copies = [copy.deepcopy(targets[r]) for r in rows]
            targets[rows[-1] + 1 : rows[-1] + 1] = copies
            self._commit(targets, f"Duplicate {len(rows)} target(s)")


def _assign(target: dict[str, Any], key: str, value: Any) -> None:
    if key == "efeature_name" and not value:
        target.pop("efeature_name", None)
    elif key == "efel_settings" and not value:
        target["efel_settings"] = {}
    else:
        target[key] = value
