"""The import dialog's tables: the pairing preview, the eCodes and the timings.

:class:`ImportTabs` holds the three tables and the timings typed in the last one; the
functions fill a table from what it shows (the pairing result, the eCode overrides,
the timings).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QComboBox, QTableWidget, QTableWidgetItem, QTabWidget

from efex_gui.core.session.dataset import ecode_name, ecode_names, ecode_table

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from PySide6.QtWidgets import QWidget

    from efex_gui.core.importing.file_names import PairingResult

#: the colour of what cannot be read, and of a guess to confirm
ERROR_COLOUR = QColor(198, 40, 40)
GUESS_COLOUR = QColor(178, 106, 0)
PREVIEW_COLUMNS = ("Cell", "Protocol", "Number", "eCode", "Current / file", "Voltage")
ECODE_COLUMNS = ("Protocol", "Table key", "eCode", "Override")
TIMING_COLUMNS = ("Protocol", "ton (ms)", "toff (ms)")


class ImportTabs(QTabWidget):
    """The files found, the protocols' eCodes, and the protocol timings typed.

    Parameters
    ----------
    parent : QWidget, optional
        Qt parent.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.preview = _table(self, PREVIEW_COLUMNS)
        self.ecodes = _table(self, ECODE_COLUMNS)
        for table in (self.preview, self.ecodes):
            table.verticalHeader().setDefaultSectionSize(24)
            table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.timings_table = _table(self, TIMING_COLUMNS)
        self.timings_table.setToolTip(
            "The lab's protocol timings (e.g. IDrest 700-2700 ms): written as ton/toff "
            "of every file of the protocol. Empty: the protocol's consensus window."
        )
        self.timings_table.itemChanged.connect(self._on_timing_edited)
        #: ``{protocol: {"ton": ms, "toff": ms}}`` typed in the timings table
        self.timings: dict[str, dict[str, float]] = {}
        self.addTab(self.preview, "Files")
        self.addTab(self.ecodes, "Protocols → eCodes")
        self.addTab(self.timings_table, "Protocol timings")

    def show_timings(self, protocols: list[str]) -> None:
        """List ``protocols`` in the timings table with what was typed for each."""
        fill_timings(self.timings_table, protocols, self.timings)

    def _on_timing_edited(self, item: QTableWidgetItem) -> None:
        """Keep a typed ``ton`` / ``toff``; clear what is not a number."""
        if item.column() == 0:
            return
        name_item = self.timings_table.item(item.row(), 0)
        protocol = name_item.text() if name_item is not None else ""
        key = "ton" if item.column() == 1 else "toff"
        values = self.timings.setdefault(protocol, {})
        try:
            values[key] = float(item.text())
        except ValueError:
            values.pop(key, None)
            item.setText("")
        if not values:
            self.timings.pop(protocol, None)


def _table(parent: QWidget, columns: tuple[str, ...]) -> QTableWidget:
    """Return an empty table with these column titles, the last one stretched."""
    table = QTableWidget(0, len(columns), parent)
    table.setHorizontalHeaderLabels(columns)
    table.horizontalHeader().setStretchLastSection(True)
    return table


def ecode_label(protocol: str, overrides: Mapping[str, str]) -> str:
    """Return the eCode ``protocol`` is read as ("—": none)."""
    return ecode_name(protocol, overrides) or "—"


def fill_preview(
    table: QTableWidget,
    pairing: PairingResult,
    overrides: Mapping[str, str],
    guessed: Mapping[str, str],
) -> None:
    """Show the entries the pairing found, then the files it skipped (in red).

    Parameters
    ----------
    table : QTableWidget
        The preview table (:data:`PREVIEW_COLUMNS`).
    pairing : PairingResult
        The entries and the skipped files with their reasons.
    overrides, guessed : Mapping
        The eCode chosen per protocol, and the protocols whose eCode is a guess.
    """
    table.setUpdatesEnabled(False)
    table.setRowCount(len(pairing.entries) + len(pairing.skipped))
    rows = [
        (
            e.cell,
            e.protocol,
            e.number or "",
            ecode_label(e.protocol, overrides)
            + (" (guessed)" if e.protocol in guessed else ""),
            e.filepath or e.i_file or "",
            e.v_file or "",
        )
        for e in pairing.entries
    ]
    for row, values in enumerate(rows):
        for column, value in enumerate(values):
            table.setItem(row, column, QTableWidgetItem(value))
    for row, (path, reason) in enumerate(
        sorted(pairing.skipped.items()), start=len(rows)
    ):
        for column, value in enumerate(("—", "", "", "", path, reason)):
            item = QTableWidgetItem(value)
            item.setForeground(ERROR_COLOUR)
            table.setItem(row, column, item)
    table.setUpdatesEnabled(True)
    table.resizeColumnsToContents()


def fill_ecodes(
    table: QTableWidget,
    protocols: list[str],
    overrides: Mapping[str, str],
    guessed: Mapping[str, str],
    choose: Callable[[str, str], None],
) -> None:
    """Show each protocol's eCode (table key, class) and a menu to change it.

    Parameters
    ----------
    table : QTableWidget
        The eCode table (protocol, key, eCode, override).
    protocols : list of str
        The protocols found, sorted.
    overrides, guessed : Mapping
        The eCode chosen per protocol, and the guesses (with their reasons).
    choose : callable
        Called with ``(protocol, eCode name)`` when a menu changes ('' : the table's).
    """
    rows = ecode_table(protocols, overrides)
    table.setRowCount(len(rows))
    choices = ["", *ecode_names()]
    for row, (protocol, key, name) in enumerate(rows):
        table.setItem(row, 0, QTableWidgetItem(protocol))
        table.setItem(row, 1, QTableWidgetItem(key or "—"))
        item = QTableWidgetItem(name or "no eCode: cannot be read")
        if name is None:
            item.setForeground(ERROR_COLOUR)
        elif protocol in guessed:
            item.setText(f"{name} (guessed: confirm or change)")
            item.setToolTip(guessed[protocol])
            item.setForeground(GUESS_COLOUR)
        table.setItem(row, 2, item)
        combo = QComboBox(table)
        combo.setToolTip(f"Read {protocol} as this eCode (empty: the table's)")
        combo.addItems(choices)
        combo.setCurrentText(overrides.get(protocol, ""))
        combo.currentTextChanged.connect(lambda text, p=protocol: choose(p, text))
        table.setCellWidget(row, 3, combo)


def fill_timings(
    table: QTableWidget,
    protocols: list[str],
    timings: Mapping[str, Mapping[str, float]],
) -> None:
    """Show each protocol with the ``ton`` / ``toff`` typed for it (ms; '' : none).

    Parameters
    ----------
    table : QTableWidget
        The timings table (protocol, ton, toff); its signals are blocked meanwhile.
    protocols : list of str
        The protocols found, sorted.
    timings : Mapping
        ``{protocol: {"ton": ms, "toff": ms}}`` typed so far.
    """
    table.blockSignals(True)
    table.setRowCount(len(protocols))
    for row, protocol in enumerate(protocols):
        name = QTableWidgetItem(protocol)
        name.setFlags(Qt.ItemFlag.ItemIsEnabled)
        table.setItem(row, 0, name)
        values = timings.get(protocol, {})
        for column, key in ((1, "ton"), (2, "toff")):
            value = values.get(key)
            table.setItem(
                row, column, QTableWidgetItem("" if value is None else f"{value:g}")
            )
    table.blockSignals(False)
