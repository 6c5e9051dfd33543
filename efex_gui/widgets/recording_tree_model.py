"""RecordingTreeModel: a Qt item-model adapter over the controller's Dataset.

Cells → protocols → sweeps. The model stores nothing of its own except the row
layout (how many rows each entry takes: one until it is read, then one per trace);
every value comes from the controller when a view asks, and ticking a check box
sends an exclusion command. Each index's internal pointer is its *parent* node, so
``parent()`` needs no search.
"""

from __future__ import annotations

import itertools
from array import array
from bisect import bisect_right
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any, overload

from PySide6.QtCore import QAbstractItemModel, QModelIndex, Qt
from PySide6.QtGui import QBrush, QFont

from efex_gui.core.session.dataset import EntryKey, SweepKey, ecode_name
from efex_gui.core.session.exclusions import ExclusionKey
from efex_gui.widgets.table_models import ColumnHeaders, Index
from efex_gui.widgets.tree_text import (
    AMBER,
    AMP,
    AMP_REL,
    COLUMN_TIPS,
    COLUMNS,
    FILE,
    GREY,
    NAME,
    PURPLE,
    RED,
    SPIKES,
    STATUS,
    entry_paths,
    fmt_number,
    spikes_text,
    status_text,
)

if TYPE_CHECKING:
    from efex_gui.app.controller import SessionController

#: role holding the node's key (SweepKey for sweeps, ExclusionKey for cells/protocols)
KEY_ROLE = Qt.ItemDataRole.UserRole + 1
#: role holding the node kind: "cell", "protocol" or "sweep"
KIND_ROLE = Qt.ItemDataRole.UserRole + 2

#: beyond this many protocols changed at once, views are refreshed in one go
MAX_DATA_CHANGED = 8
_NO_PARENT = QModelIndex()


#: the row keys a protocol node remembers (more than a screen of rows)
_RECENT_ROWS = 256


class _SweepRows(Sequence[SweepKey]):
    """A protocol node's sweep rows, made on demand from its entries' row counts.

    A SweepKey per row, kept for every sweep of the session, took 0.1 kB a sweep;
    this holds the first row of each entry and whether the entry is read, and the
    keys of the rows asked last (a view asks for every visible row at each repaint).
    """

    __slots__ = ("_cell", "_protocol", "_read", "_recent", "_starts")

    def __init__(
        self, cell: str, protocol: str, counts: Sequence[int], read: Sequence[bool]
    ) -> None:
        self._cell, self._protocol = cell, protocol
        self._starts = array("q", itertools.accumulate(counts, initial=0))
        self._read = bytes(bool(r) for r in read)
        self._recent: dict[int, SweepKey] = {}

    def __len__(self) -> int:
        return self._starts[-1]

    @overload
    def __getitem__(self, row: int) -> SweepKey: ...

    @overload
    def __getitem__(self, row: slice) -> list[SweepKey]: ...

    def __getitem__(self, row: int | slice) -> SweepKey | list[SweepKey]:
        if isinstance(row, slice):
            return [self[i] for i in range(*row.indices(len(self)))]
        known = self._recent.get(row)
        if known is not None:
            return known
        if row < 0:
            row += len(self)
        if not 0 <= row < len(self):
            raise IndexError(row)
        entry = bisect_right(self._starts, row) - 1
        key = self._key(entry, row - self._starts[entry])
        if len(self._recent) >= _RECENT_ROWS:
            self._recent.clear()
        self._recent[row] = key
        return key

    def __iter__(self) -> Iterator[SweepKey]:
        for entry in range(len(self._read)):
            for trace in range(self._starts[entry + 1] - self._starts[entry]):
                yield self._key(entry, trace)

    def _key(self, entry: int, trace: int) -> SweepKey:
        index = trace if self._read[entry] else None
        return SweepKey(self._cell, self._protocol, entry, index)

    def row_of(self, sweep: SweepKey) -> int | None:
        """Return the row of a sweep of this protocol (None: no such row)."""
        entry, trace = sweep.entry, sweep.index or 0
        if not 0 <= entry < len(self._read):
            return None
        row = self._starts[entry] + trace
        return row if trace >= 0 and row < self._starts[entry + 1] else None


class _Node:
    """A cell or protocol row (sweeps are rows of their protocol node)."""

    def __init__(
        self,
        kind: str,
        row: int,
        parent: _Node | None,
        cell: str = "",
        protocol: str = "",
    ) -> None:
        self.kind, self.row, self.parent = kind, row, parent
        self.cell, self.protocol = cell, protocol
        self.children: list[_Node] = []
        self.counts: list[int] = []
        self.sweeps: Sequence[SweepKey] = ()

    def exclusion_key(self) -> ExclusionKey:
        if self.kind == "cell":
            return ExclusionKey(self.cell)
        return ExclusionKey(self.cell, self.protocol)


class RecordingTreeModel(ColumnHeaders, QAbstractItemModel):
    """Cells, protocols and sweeps of the controller's dataset, with check boxes."""

    def __init__(self, controller: SessionController, parent: Any = None) -> None:
        super().__init__(parent)
        self.controller = controller
        self._root = _Node("root", 0, None)
        self._summaries: dict[SweepKey, Any] = {}
        #: the display texts of the sweep rows (forgotten with the summaries)
        self._row_texts: dict[SweepKey, dict[int, str]] = {}
        self._build()
        controller.session_changed.connect(self._on_session_changed)
        controller.exclusions_changed.connect(self._on_values_changed)
        controller.rheobase_changed.connect(self._on_values_changed)
        controller.ecodes_changed.connect(self._on_values_changed)
        controller.entries_loaded.connect(self._on_entries_changed)
        controller.metadata_changed.connect(self._on_entries_changed)

    # --- layout -----------------------------------------------------------------
    def _build(self) -> None:
        dataset = self.controller.dataset
        self._root.children = []
        for ci, cell in enumerate(dataset.cells()):
            cell_node = _Node("cell", ci, self._root, cell)
            for pi, protocol in enumerate(dataset.protocols(cell)):
                node = _Node("protocol", pi, cell_node, cell, protocol)
                node.counts = self._entry_counts(node)
                node.sweeps = self._sweeps(node)
                cell_node.children.append(node)
            self._root.children.append(cell_node)

    def _entry_counts(self, node: _Node) -> list[int]:
        dataset = self.controller.dataset
        return [
            max(1, dataset.state(EntryKey(node.cell, node.protocol, i)).n_traces or 0)
            for i in range(len(dataset.entries(node.cell, node.protocol)))
        ]

    def _sweeps(self, node: _Node) -> _SweepRows:
        state = self.controller.dataset.state
        read = [
            bool(state(EntryKey(node.cell, node.protocol, entry)).n_traces)
            for entry in range(len(node.counts))
        ]
        return _SweepRows(node.cell, node.protocol, node.counts, read)

    def protocol_node(self, cell: str, protocol: str) -> _Node | None:
        """Return the node of one protocol of one cell."""
        for cell_node in self._root.children:
            if cell_node.cell == cell:
                for node in cell_node.children:
                    if node.protocol == protocol:
                        return node
        return None

    # --- Qt model interface --------------------------------------------------------
    def index(self, row: int, column: int, parent: Index = _NO_PARENT) -> QModelIndex:
        """Return the index of ``row``/``column`` under ``parent`` (invalid if none)."""
        node = self._node(parent)
        if node is None or row < 0 or column < 0 or column >= len(COLUMNS):
            return QModelIndex()
        size = len(node.sweeps) if node.kind == "protocol" else len(node.children)
        if row >= size:
            return QModelIndex()
        return self.createIndex(row, column, node)

    def parent(self, index: Index = _NO_PARENT) -> QModelIndex:  # type: ignore[override]
        """Return the index of the row that holds ``index`` (invalid for cells)."""
        if not index.isValid():
            return QModelIndex()
        owner: _Node = index.internalPointer()
        if owner is self._root or owner.parent is None:
            return QModelIndex()
        return self.createIndex(owner.row, 0, owner.parent)

    def rowCount(self, parent: Index = _NO_PARENT) -> int:
        """Return the number of children of ``parent`` (cells, protocols or sweeps)."""
        if parent.isValid() and parent.column() != 0:
            return 0
        node = self._node(parent)
        if node is None:
            return 0
        return len(node.sweeps) if node.kind == "protocol" else len(node.children)

    def columnCount(self, parent: Index = _NO_PARENT) -> int:
        """Return the number of columns (:data:`COLUMNS`)."""
        return len(COLUMNS)

    def column_header(self, section: int, role: int) -> Any:
        """Return the column titles and tooltips."""
        if role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section]
        if role == Qt.ItemDataRole.ToolTipRole:
            return COLUMN_TIPS[section]
        return None

    def flags(self, index: Index) -> Qt.ItemFlag:
        """Return the flags of a row: selectable, the name column checkable."""
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        flags = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
        if index.column() == NAME:
            flags |= Qt.ItemFlag.ItemIsUserCheckable
        return flags

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        """Return the data of a cell, protocol or sweep row for ``role``."""
        if not index.isValid():
            return None
        owner: _Node = index.internalPointer()
        if owner.kind == "protocol":
            return self._sweep_data(owner.sweeps[index.row()], index.column(), role)
        return self._group_data(owner.children[index.row()], index.column(), role)

    def setData(
        self, index: Index, value: Any, role: int = Qt.ItemDataRole.EditRole
    ) -> bool:
        """Exclude or include a row when its check box is toggled."""
        if role != Qt.ItemDataRole.CheckStateRole or index.column() != NAME:
            return False
        checked = Qt.CheckState(value) == Qt.CheckState.Checked
        self.controller.set_excluded([self.exclusion_key(index)], excluded=not checked)
        return True

    # --- helpers for views --------------------------------------------------------
    def _node(self, index: Index) -> _Node | None:
        """Return an index's cell/protocol node (root if invalid; None: a sweep)."""
        if not index.isValid():
            return self._root
        owner: _Node = index.internalPointer()
        return None if owner.kind == "protocol" else owner.children[index.row()]

    def kind(self, index: Index) -> str:
        """Tell the kind of row: "cell", "protocol" or "sweep"."""
        owner: _Node = index.internalPointer()
        return "sweep" if owner.kind == "protocol" else owner.children[index.row()].kind

    def sweep(self, index: Index) -> SweepKey | None:
        """Return the sweep a row stands for (None for cells and protocols)."""
        owner: _Node = index.internalPointer()
        return owner.sweeps[index.row()] if owner.kind == "protocol" else None

    def sweeps_under(self, index: Index) -> list[SweepKey]:
        """Every sweep of a row (itself, a protocol's sweeps, a cell's sweeps)."""
        sweep = self.sweep(index)
        if sweep is not None:
            return [sweep]
        node = self._node(index)
        assert node is not None
        if node.kind == "protocol":
            return list(node.sweeps)
        return [s for child in node.children for s in child.sweeps]

    def exclusion_key(self, index: Index) -> ExclusionKey:
        """Return the exclusion key of any row."""
        sweep = self.sweep(index)
        if sweep is not None:
            return self.controller.exclusion_key(sweep)
        node = self._node(index)
        assert node is not None
        return node.exclusion_key()

    def index_of_sweep(self, sweep: SweepKey, column: int = 0) -> QModelIndex:
        """Return the index of a sweep's row (invalid if not shown)."""
        node = self.protocol_node(sweep.cell, sweep.protocol)
        if node is None or not isinstance(node.sweeps, _SweepRows):
            return QModelIndex()
        row = node.sweeps.row_of(sweep)
        return QModelIndex() if row is None else self.createIndex(row, column, node)

    # --- values -------------------------------------------------------------------
    def _summary(self, sweep: SweepKey) -> Any:
        # A view asks data() for every role of every visible cell at each repaint.
        summary = self._summaries.get(sweep)
        if summary is None:
            summary = self._summaries[sweep] = self.controller.summary(sweep)
        return summary

    def _texts(self, sweep: SweepKey, summary: Any) -> dict[int, str]:
        """Return the sweep row's texts by column, made once per summary."""
        texts = self._row_texts.get(sweep)
        if texts is None:
            paths = entry_paths(self.controller.dataset, sweep.entry_key)
            texts = self._row_texts[sweep] = {
                NAME: summary.name,
                AMP: fmt_number(summary.amp, 4),
                AMP_REL: fmt_number(summary.amp_rel, 1),
                SPIKES: spikes_text(summary),
                STATUS: status_text(summary, paths),
                FILE: summary.file,
            }
        return texts

    def _sweep_data(self, sweep: SweepKey, column: int, role: int) -> Any:
        summary = self._summary(sweep)
        if role == Qt.ItemDataRole.DisplayRole:
            return self._texts(sweep, summary)[column]
        if role == Qt.ItemDataRole.CheckStateRole and column == NAME:
            excluded = self.controller.is_excluded(self.controller.exclusion_key(sweep))
            return Qt.CheckState.Unchecked if excluded else Qt.CheckState.Checked
        if role == Qt.ItemDataRole.ForegroundRole:
            if summary.status in ("unreadable", "refused", "error"):
                return QBrush(RED)
            if summary.status == "excluded":
                return QBrush(GREY)
            if summary.status == "flagged" and column in (NAME, STATUS):
                return QBrush(PURPLE)
            if summary.warnings and column == STATUS:
                return QBrush(AMBER)
        if role == Qt.ItemDataRole.FontRole and summary.status == "not read":
            font = QFont()
            font.setItalic(True)
            return font
        if role == Qt.ItemDataRole.ToolTipRole:
            lines = [summary.file, f"{summary.status} {summary.reason}".strip()]
            if summary.flags:
                lines.append("QC flags (the sweep is still used; you decide):")
                lines += [f"  • {flag}" for flag in summary.flags]
            return "\n".join(lines + list(summary.warnings))
        if role == Qt.ItemDataRole.TextAlignmentRole and column in (
            AMP,
            AMP_REL,
            SPIKES,
        ):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == KEY_ROLE:
            return sweep
        if role == KIND_ROLE:
            return "sweep"
        return None

    def _group_data(self, node: _Node, column: int, role: int) -> Any:
        key = node.exclusion_key()
        exclusions = self.controller.session.exclusions
        if role == Qt.ItemDataRole.DisplayRole:
            return self._group_text(node, column)
        if role == Qt.ItemDataRole.CheckStateRole and column == NAME:
            if exclusions.is_excluded(key):
                return Qt.CheckState.Unchecked
            if any(key.covers(k) for k in exclusions.reasons):
                return Qt.CheckState.PartiallyChecked
            return Qt.CheckState.Checked
        if role == Qt.ItemDataRole.ForegroundRole and exclusions.is_excluded(key):
            return QBrush(GREY)
        if role == Qt.ItemDataRole.ToolTipRole:
            reason = exclusions.reason(key)
            return (
                f"excluded: {reason or 'no reason given'}"
                if reason is not None
                else None
            )
        if role == KEY_ROLE:
            return key
        if role == KIND_ROLE:
            return node.kind
        return None

    def _group_text(self, node: _Node, column: int) -> str:
        if column == NAME:
            return node.cell if node.kind == "cell" else node.protocol
        if column != STATUS:
            return ""
        if node.kind == "cell":
            rheobase = self.controller.store.rheobases.get(node.cell)
            count = len(node.children)
            text = f"{count} protocol{'s' if count != 1 else ''}"
            return text if rheobase is None else f"rheobase {rheobase:.3g} nA · {text}"
        name = ecode_name(node.protocol, self.controller.session.ecode_overrides)
        return f"{_ecode_text(node.protocol, name)} · {len(node.sweeps)} sweeps"

    # --- signal handlers ----------------------------------------------------------
    def _on_session_changed(self, _session: Any) -> None:
        self._summaries.clear()
        self._row_texts.clear()
        self.beginResetModel()
        self._build()
        self.endResetModel()

    def _on_values_changed(self, _value: Any = None) -> None:
        self._summaries.clear()
        self._row_texts.clear()
        self._refresh_all()

    def _refresh_all(self) -> None:
        """Every shown value may have changed (rows did not move).

        One layout change instead of a dataChanged per protocol: a view then asks
        again for the rows it shows only (44 cells: ~10 ms instead of ~500 ms).
        """
        self.layoutAboutToBeChanged.emit()
        self.layoutChanged.emit()

    def _emit_changed(self, cell_node: _Node, protocols: list[_Node]) -> None:
        """DataChanged for a cell row, some of its protocol rows and their sweeps."""
        last = len(COLUMNS) - 1
        row = cell_node.row
        self.dataChanged.emit(self.index(row, 0), self.index(row, last))
        for node in protocols:
            parent = self.createIndex(node.row, 0, cell_node)
            self.dataChanged.emit(parent, self.createIndex(node.row, last, cell_node))
            if node.sweeps:
                self.dataChanged.emit(
                    self.index(0, 0, parent),
                    self.index(len(node.sweeps) - 1, last, parent),
                )

    def _on_entries_changed(self, keys: list[EntryKey]) -> None:
        self._summaries.clear()
        self._row_texts.clear()
        touched: dict[str, list[_Node]] = {}
        for cell, protocol in dict.fromkeys((k.cell, k.protocol) for k in keys):
            node = self.protocol_node(cell, protocol)
            if node is not None:
                self._relayout(node)
                touched.setdefault(cell, []).append(node)
        if sum(len(nodes) for nodes in touched.values()) > MAX_DATA_CHANGED:
            self._refresh_all()
            return
        for cell_node in self._root.children:
            if cell_node.cell in touched:
                self._emit_changed(cell_node, touched[cell_node.cell])

    def _relayout(self, node: _Node) -> None:
        """Insert or remove the rows of entries whose number of traces changed."""
        new_counts = self._entry_counts(node)
        if len(new_counts) != len(node.counts):
            self._on_session_changed(None)
            return
        parent = self.createIndex(node.row, 0, node.parent)
        starts = [sum(node.counts[:i]) for i in range(len(node.counts))]
        for entry in reversed(range(len(new_counts))):
            old, new, start = node.counts[entry], new_counts[entry], starts[entry]
            if new > old:
                self.beginInsertRows(parent, start + old, start + new - 1)
                node.counts[entry] = new
                node.sweeps = self._sweeps(node)
                self.endInsertRows()
            elif new < old:
                self.beginRemoveRows(parent, start + new, start + old - 1)
                node.counts[entry] = new
                node.sweeps = self._sweeps(node)
                self.endRemoveRows()
        node.sweeps = self._sweeps(node)


def _ecode_text(protocol: str, name: str | None) -> str:
    """Describe the eCode, or the one other labs' names suggest, or why none."""
    from efex_gui.core.recordings.ecodes.names import guess_from_name

    if name:
        return f"eCode {name}"
    guess = guess_from_name(protocol)
    if guess.ecode:
        return f"eCode {guess.ecode} (guessed)"
    return "no eCode" if guess.how == "name" else "eCode from the stimulus"
