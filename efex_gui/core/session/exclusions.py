"""Exclusions: which cells, protocols and sweeps a user left out, and why.

An exclusion is data (house style §3.5): a versioned, validated document that the core
applies before reading, so the GUI, the CLI and ``efex_gui.extract`` leave out exactly
the same recordings. Exclusions refer to stable keys, never to table rows:

* ``ExclusionKey(cell)`` — a whole cell;
* ``ExclusionKey(cell, protocol)`` — one protocol of a cell;
* ``ExclusionKey(cell, protocol, file)`` — one files_metadata entry (``file`` is its
  ``filepath`` or ``v_file`` as stored in the session, i.e. relative to the data root);
* ``ExclusionKey(cell, protocol, file, index)`` — one trace of a multi-trace file (the
  index into the reader's list of traces for that entry).

A key excludes everything below it. :func:`apply_exclusions` removes excluded entries
from a ``files_metadata`` dict; single traces of multi-trace files are left out by a
:class:`TraceFilter`, a picklable ``recording_reader`` that wraps the normal readers.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from efex_gui.core.errors import MetadataError
from efex_gui.core.importing.file_names import entry_file

if TYPE_CHECKING:
    from efex_gui.core.readers._common import TraceDict

FORMAT_VERSION = 1


@dataclass(frozen=True, order=True)
class ExclusionKey:
    """The address of an excluded cell, protocol, file entry or trace.

    Parameters
    ----------
    cell : str
        Cell name (the files_metadata key).
    protocol : str or None
        Protocol name; None for a whole cell.
    file : str or None
        The entry's ``filepath`` or ``v_file`` as stored; None for a whole protocol.
    index : int or None
        Trace index within the entry; None for every trace of the entry.
    """

    cell: str
    protocol: str | None = None
    file: str | None = None
    index: int | None = None

    def __post_init__(self) -> None:
        # A key is a prefix: no level may be set below an unset one.
        unset = False
        for part in (self.protocol, self.file, self.index):
            if part is None:
                unset = True
            elif unset:
                raise MetadataError(
                    f"Exclusion key {[self.cell, self.protocol, self.file, self.index]}"
                    " skips a level."
                )

    def as_list(self) -> list[Any]:
        """Return the key as a JSON list without trailing Nones."""
        parts: list[Any] = [self.cell, self.protocol, self.file, self.index]
        while parts and parts[-1] is None:
            parts.pop()
        return parts

    def covers(self, other: ExclusionKey) -> bool:
        """Whether excluding this key excludes ``other`` (itself or something below)."""
        mine = (self.cell, self.protocol, self.file, self.index)
        theirs = (other.cell, other.protocol, other.file, other.index)
        return all(m is None or m == t for m, t in zip(mine, theirs, strict=True))

    def ancestors(self) -> list[ExclusionKey]:
        """Strict prefixes of this key, from the cell down."""
        parts = self.as_list()
        return [ExclusionKey(*parts[:n]) for n in range(1, len(parts))]


@dataclass(frozen=True)
class Exclusions:
    """An immutable set of exclusions with a reason each (empty string: no reason).

    Treat instances as values: the ``with_*`` methods return new objects.
    """

    reasons: Mapping[ExclusionKey, str] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.reasons)

    def __iter__(self) -> Iterator[ExclusionKey]:
        return iter(sorted(self.reasons, key=_sort_key))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Exclusions):
            return False
        return dict(self.reasons) == dict(other.reasons)

    def __hash__(self) -> int:
        return hash(frozenset(self.reasons.items()))

    def covering(self, key: ExclusionKey) -> ExclusionKey | None:
        """Return the highest-level exclusion that covers ``key``, or None."""
        if not self.reasons:
            return None
        for candidate in [*key.ancestors(), key]:
            if candidate in self.reasons:
                return candidate
        return None

    def is_excluded(self, key: ExclusionKey) -> bool:
        """Whether ``key`` is excluded by itself or by a level above it."""
        return self.covering(key) is not None

    def reason(self, key: ExclusionKey) -> str | None:
        """Return the reason of the exclusion covering ``key`` (None: not excluded)."""
        covering = self.covering(key)
        return None if covering is None else self.reasons[covering]

    def with_excluded(
        self, keys: Iterable[ExclusionKey], reason: str = ""
    ) -> Exclusions:
        """Return a copy with ``keys`` excluded for ``reason``."""
        new = dict(self.reasons)
        new.update(dict.fromkeys(keys, reason))
        return Exclusions(new)

    def without(self, keys: Iterable[ExclusionKey]) -> Exclusions:
        """Return a copy where exactly ``keys`` are no longer listed."""
        drop = set(keys)
        return Exclusions({k: r for k, r in self.reasons.items() if k not in drop})

    def to_json(self) -> list[dict[str, Any]]:
        """Return ``[{"key": [...], "reason": str}, ...]`` in a stable order."""
        return [{"key": k.as_list(), "reason": self.reasons[k]} for k in self]

    @classmethod
    def from_json(cls, data: Iterable[Mapping[str, Any]]) -> Exclusions:
        """Build from :meth:`to_json` output, validating each item."""
        reasons: dict[ExclusionKey, str] = {}
        for i, item in enumerate(data):
            key = item.get("key") if isinstance(item, Mapping) else None
            if not isinstance(key, list) or not 1 <= len(key) <= 4:
                raise MetadataError(
                    f"Exclusion #{i}: 'key' must be a list of 1 to 4 items."
                )
            if not all(isinstance(k, str) for k in key[:3]) or (
                len(key) == 4 and not isinstance(key[3], int)
            ):
                raise MetadataError(f"Exclusion #{i}: key {key} has wrong types.")
            reasons[ExclusionKey(*key)] = str(item.get("reason", ""))
        return cls(reasons)


def _sort_key(key: ExclusionKey) -> tuple[Any, ...]:
    index = -1 if key.index is None else key.index
    return (key.cell, key.protocol or "", key.file or "", index)


FilesMetadata = dict[str, dict[str, list[dict[str, Any]]]]
#: a files_metadata only read: its entries may be read-only mappings (the GUI's)
ReadMetadata = Mapping[str, Mapping[str, Sequence[Mapping[str, Any]]]]
PartialExclusions = dict[tuple[str, str, str], set[int]]


def same_recording_keys(
    files_metadata: ReadMetadata,
    keys: Iterable[ExclusionKey],
) -> list[ExclusionKey]:
    """``keys`` plus the same file's entries under every other protocol and cell.

    An exclusion follows the recording, not the protocol entry: SSCx's legacy
    "Step" protocol reuses the IDrest / IDthresh files, and a file excluded under
    one of them is left out under all. Entry keys (cell, protocol, file) spread;
    cell, protocol and single-trace keys (a trace index depends on the protocol's
    reading of the file) stay as they are. Order: as given, then the added keys.
    """
    keys = list(keys)
    files = {k.file for k in keys if k.file is not None and k.index is None}
    out = dict.fromkeys(keys)
    if files:
        for cell, protocols in files_metadata.items():
            for protocol, entries in protocols.items():
                for config in entries:
                    file = entry_file(config)
                    if file in files:
                        out.setdefault(ExclusionKey(cell, protocol, file))
    return list(out)


def apply_exclusions(
    files_metadata: ReadMetadata,
    exclusions: Exclusions,
) -> tuple[FilesMetadata, PartialExclusions]:
    """Remove excluded cells, protocols and entries from a files_metadata dict.

    Parameters
    ----------
    files_metadata : dict
        ``{cell: {protocol: [entry, ...]}}`` with the paths as the exclusions name them.
    exclusions : Exclusions
        What to leave out.

    Returns
    -------
    files_metadata : dict
        A deep copy without the excluded parts; protocols and cells left empty are
        dropped.
    partial : dict
        ``{(cell, protocol, file): {trace index, ...}}`` for entries of which only some
        traces are excluded (give these to :class:`TraceFilter`).
    """
    kept: FilesMetadata = {}
    partial: PartialExclusions = {}
    for cell, protocols in files_metadata.items():
        for protocol, _, config, dropped in kept_entries(cell, protocols, exclusions):
            kept.setdefault(cell, {}).setdefault(protocol, []).append(
                copy.deepcopy(dict(config))
            )
            if dropped:
                partial[(cell, protocol, entry_file(config))] = set(dropped)
    return kept, partial


#: no trace dropped (shared: a plan per entry kept an empty set of 216 bytes)
_NONE: frozenset[int] = frozenset()


def kept_entries(
    cell: str,
    protocols: Mapping[str, Sequence[Mapping[str, Any]]],
    exclusions: Exclusions,
    keys: Iterable[ExclusionKey] | None = None,
) -> Iterator[tuple[str, int, Mapping[str, Any], AbstractSet[int]]]:
    """Yield each entry of a cell that the exclusions keep, and its dropped traces.

    The one reading of the exclusions: :func:`apply_exclusions` (the CLI's and
    ``efex_gui.extract``'s files_metadata) and the GUI's extraction plans use it.

    Parameters
    ----------
    cell : str
        The cell's name.
    protocols : mapping
        Its ``{protocol: [entry, ...]}`` (paths as the exclusions name them).
    exclusions : Exclusions
        What to leave out.
    keys : iterable of ExclusionKey, optional
        The keys naming traces of this cell, when the caller has them at hand
        (default: looked up in ``exclusions``).

    Yields
    ------
    tuple of (str, int, dict, set of int)
        The protocol, the entry's position in it, the entry (not copied), and the
        indices of its traces excluded one by one (one shared empty set when none:
        the GUI's plans keep one per entry; never change it).
    """
    dropped: dict[tuple[str | None, str | None], set[int]] = {}
    for key in exclusions.reasons if keys is None else keys:
        if key.cell == cell and key.index is not None:
            dropped.setdefault((key.protocol, key.file), set()).add(int(key.index))
    for protocol, configs in protocols.items():
        for position, config in enumerate(configs):
            file = entry_file(config)
            if not exclusions.is_excluded(ExclusionKey(cell, protocol, file)):
                yield protocol, position, config, dropped.get((protocol, file), _NONE)


class TraceFilter:
    """A ``recording_reader`` that drops excluded traces of multi-trace files.

    Parameters
    ----------
    excluded : dict
        ``{(cell, absolute path, protocol_name): {trace index, ...}}``: the traces
        excluded in one cell's entry. The protocol name is the one the core puts in
        ``config_data["protocol_name"]`` before reading (the entry's own value, else
        its files_metadata key). A key without the cell, ``(absolute path,
        protocol_name)`` (a recipe written before version 2), drops the traces in
        every cell that reads the file under that protocol.
    cell : str, optional
        The cell being read (:meth:`for_cell`; the extraction scopes the filter to
        each cell it reads). Unscoped, a cell's key applies to every cell.

    Notes
    -----
    Two cells may read one file under the same protocol (two cells of one HEKA
    file, two channels of one ABF file): a trace excluded in one is kept in the
    other. The object is picklable so it works with process-pool ``map_function``s.
    """

    def __init__(
        self,
        excluded: Mapping[tuple[str, ...], Iterable[int]],
        cell: str | None = None,
    ) -> None:
        self.excluded = {k: frozenset(v) for k, v in excluded.items()}
        self.cell = cell

    def for_cell(self, cell: str) -> TraceFilter:
        """Return this filter for the reads of ``cell`` (its keys and the cell-less)."""
        return TraceFilter(self.excluded, cell)

    def _dropped(self, config_data: Mapping[str, Any]) -> set[int]:
        """Return the indices of the traces of ``config_data`` to drop."""
        path = entry_file(config_data)
        protocol = str(config_data.get("protocol_name", ""))
        drop: set[int] = set()
        for key, indices in self.excluded.items():
            if key[-2:] == (path, protocol) and (
                len(key) == 2 or self.cell is None or key[0] == self.cell
            ):
                drop.update(indices)
        return drop

    def __call__(self, config_data: dict[str, Any]) -> list[TraceDict]:
        """Read ``config_data`` with the normal readers and drop the excluded traces."""
        from efex_gui.core.readers import read_file

        traces = read_file(config_data)
        drop = self._dropped(config_data)
        return [t for i, t in enumerate(traces) if i not in drop]

    def source_indices(self, config_data: Mapping[str, Any], count: int) -> list[int]:
        """Where the ``count`` kept traces are in the core reader's list.

        The recordings read through the filter are then keyed, and read again on
        demand, as if read without it (the persistent feature cache, dropped traces).
        """
        drop = self._dropped(config_data)
        kept: list[int] = []
        index = 0
        while len(kept) < count:
            if index not in drop:
                kept.append(index)
            index += 1
        return kept

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, TraceFilter)
            and self.excluded == other.excluded
            and self.cell == other.cell
        )

    def __hash__(self) -> int:
        return hash((frozenset(self.excluded.items()), self.cell))

    def __repr__(self) -> str:
        scope = "" if self.cell is None else f", cell {self.cell!r}"
        return f"TraceFilter({len(self.excluded)} files{scope})"


def reader_for_cell(recording_reader: Any, cell: str) -> Any:
    """Return ``recording_reader`` for the reads of ``cell``.

    A :class:`TraceFilter` is scoped to the cell (:meth:`TraceFilter.for_cell`);
    any other reader is returned as it is.
    """
    if isinstance(recording_reader, TraceFilter):
        return recording_reader.for_cell(cell)
    return recording_reader


def include(
    exclusions: Exclusions,
    key: ExclusionKey,
    children: Callable[[ExclusionKey], list[ExclusionKey]],
) -> Exclusions:
    """Return ``exclusions`` with ``key`` and everything below it included again.

    Exclusions listed for ``key`` or below it are removed. An exclusion of a level
    above ``key`` is split: it is replaced by exclusions of the siblings on the way
    down (same reason), so only the branch leading to ``key`` comes back, as a tick
    in a tree of check boxes does.

    Parameters
    ----------
    exclusions : Exclusions
        The current document.
    key : ExclusionKey
        What to include.
    children : callable
        ``key -> keys one level below`` (e.g. ``Dataset.child_keys``).
    """
    reasons = dict(exclusions.reasons)
    for ancestor in key.ancestors():
        if ancestor not in reasons:
            continue
        reason = reasons.pop(ancestor)
        path = [a for a in key.ancestors() if ancestor.covers(a) and a != ancestor]
        for level in [ancestor, *path]:
            for child in children(level):
                if not child.covers(key):
                    reasons.setdefault(child, reason)
    for listed in list(reasons):
        if key.covers(listed):
            del reasons[listed]
    return Exclusions(reasons)
