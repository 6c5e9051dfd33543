"""What each cell of a session reads: its kept entries, and the traces to drop.

:class:`PlanCache` applies a session's exclusions the way ``Session.to_extract_kwargs``
applies them, with the same :func:`~efex_gui.core.session.exclusions.kept_entries`
(excluded cells, protocols and entries left out; single traces of an entry dropped by
their index in the reader's list), with absolute paths, and
remembers each cell's plan: a cell whose metadata, exclusions and data folder did not
change gets the same :class:`CellPlan` object back, so a rerun after an exclusion
plans the touched cell only (the other cells cost one comparison each).
"""

from __future__ import annotations

import copy
import hashlib
import itertools
import operator
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from efex_gui.core.importing.file_names import PATH_KEYS, with_absolute_paths
from efex_gui.core.recordings.compact import CompactMapping
from efex_gui.core.session.exclusions import ExclusionKey, kept_entries

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from collections.abc import Set as AbstractSet

    from efex_gui.core.session.document import Session

__all__ = [
    "CellPlan",
    "EntryPlan",
    "PlanCache",
    "file_stamp",
    "snapshot_metadata",
    "unchanged_metadata",
]

_generations = itertools.count()


def file_stamp(config: Mapping[str, Any]) -> tuple[Any, ...]:
    """``(path, size, mtime_ns)`` of each file of an entry (None, None if missing)."""
    stamp: list[tuple[Any, int | None, int | None]] = []
    for key in PATH_KEYS:
        if config.get(key):
            try:
                stat = os.stat(config[key])
                stamp.append((config[key], stat.st_size, stat.st_mtime_ns))
            except OSError:
                stamp.append((config[key], None, None))
    return tuple(stamp)


class EntryPlan:
    """One kept entry: where it is, its absolute metadata, the traces to drop.

    Slots, and the metadata as a tuple of values beside one keys tuple shared by the
    entries with the same keys: the plans of a session hold one per entry, and a dict
    each took about five times the memory. The entry's address in three slots, not
    a tuple (:attr:`ref` makes one): a tuple per entry took 48 B more.

    Of a read-only entry (``source``, a
    :class:`~efex_gui.core.recordings.compact.CompactMapping`: the GUI's, replaced,
    never changed) only what differs is kept: its resolved paths and the keys added
    after its own (an eCode override); :attr:`values` puts them in place. A tuple of
    every value per entry took 64 B more a sweep.

    Parameters
    ----------
    cell, protocol, position
        Where the entry is in ``files_metadata``.
    keys : tuple of str
        The keys of the absolute metadata (shared by the entries with the same).
    values : tuple
        Its values; with ``source``, only the resolved paths (the values of the
        source's path keys that were set, in order) then the values of the keys
        after the source's.
    drop : set of int
        The traces to leave out.
    source : mapping, optional
        The read-only entry the metadata was made from.
    """

    __slots__ = ("_source", "_values", "cell", "drop", "keys", "position", "protocol")

    def __init__(
        self,
        cell: str,
        protocol: str,
        position: int,
        keys: tuple[str, ...],
        values: tuple[Any, ...],
        drop: AbstractSet[int],
        source: CompactMapping | None = None,
    ) -> None:
        self.cell, self.protocol, self.position = cell, protocol, position
        self.keys, self._values, self.drop = keys, values, drop
        self._source = source

    @property
    def ref(self) -> tuple[str, str, int]:
        """``(cell, protocol, position)``: where the entry is in ``files_metadata``."""
        return (self.cell, self.protocol, self.position)

    @property
    def values(self) -> tuple[Any, ...]:
        """The values of the metadata with absolute paths, in the order of ``keys``."""
        if self._source is None:
            return self._values
        kept = iter(self._values)
        return (
            *(
                next(kept) if value and name in PATH_KEYS else value
                for name, value in self._source.items()
            ),
            *kept,
        )

    @property
    def config(self) -> dict[str, Any]:
        """The entry's metadata with absolute paths (a new dict at each call)."""
        return dict(zip(self.keys, self.values, strict=True))


@dataclass
class CellPlan:
    """The kept entries of one cell; ``generation`` is new for every new plan."""

    entries: list[EntryPlan]
    generation: int = field(default_factory=lambda: next(_generations))

    def stamps(self) -> str:
        """Return a digest of the files' current stamps (a changed file changes it).

        A digest, not the stamps: an extractor keeps one per cell between runs.
        """
        digest = hashlib.blake2b(digest_size=16)
        for plan in self.entries:
            digest.update(repr(file_stamp(plan.config)).encode())
        return digest.hexdigest()


#: one protocol's entries as a plan saw them: each entry's keys (one tuple shared by
#: the entries with the same keys), then each entry's values (dicts and lists copied,
#: the rest shared); or, when every entry is read-only (the GUI's), None then the
#: entries themselves (an entry is then unchanged while it is the same object)
_ProtocolSnapshot = tuple[
    tuple[tuple[str, ...], ...] | None, tuple[tuple[Any, ...], ...] | tuple[Any, ...]
]
#: a cell's metadata as a plan saw it: ``((protocol, entries), ...)`` in order
_CellSnapshot = tuple[tuple[str, _ProtocolSnapshot], ...]


@dataclass
class _Memo:
    root: str
    keys: frozenset[ExclusionKey]
    metadata: _CellSnapshot
    plan: CellPlan
    #: the eCode overrides of the cell's protocols, ``((protocol, eCode), ...)``
    ecodes: tuple[tuple[str, str], ...] = ()


class PlanCache:
    """The per-cell plans of a session, reused while their inputs are unchanged."""

    def __init__(self) -> None:
        self._memo: dict[str, _Memo] = {}
        #: ``{stored path: absolute path}`` in the data folder ``_root``: by the
        #: stored string, not a (folder, path) tuple (56 B more per file)
        self._paths: dict[str, str] = {}
        self._root: str | None = None
        #: the entries' key tuples, one per distinct set of keys (in order)
        self._key_tuples: dict[tuple[str, ...], tuple[str, ...]] = {}
        #: cells planned again by the last :meth:`plan` call
        self.planned: list[str] = []

    def clear(self) -> None:
        """Forget every plan."""
        self._memo.clear()
        self._paths.clear()
        self._key_tuples.clear()

    def plan(self, session: Session) -> dict[str, CellPlan]:
        """``{cell: plan}`` of the cells that keep at least one entry, in order."""
        by_cell: dict[str, set[ExclusionKey]] = {}
        for key in session.exclusions.reasons:
            by_cell.setdefault(key.cell, set()).add(key)
        root = str(session.data_root or Path.cwd())
        if root != self._root:
            self._paths.clear()
            self._root = root
        plans: dict[str, CellPlan] = {}
        memo: dict[str, _Memo] = {}
        self.planned = []
        overrides = session.ecode_overrides
        for cell, protocols in session.files_metadata.items():
            keys = frozenset(by_cell.get(cell, ()))
            ecodes = tuple((p, overrides[p]) for p in protocols if p in overrides)
            known = self._memo.get(cell)
            if not (
                known is not None
                and known.root == root
                and known.keys == keys
                and known.ecodes == ecodes
                and unchanged_metadata(known.metadata, protocols)
            ):
                entries = _cell_entries(
                    session, cell, protocols, keys, (self._paths, self._key_tuples)
                )
                snapshot = snapshot_metadata(protocols, self._key_tuples)
                known = _Memo(root, keys, snapshot, CellPlan(entries), ecodes)
                self.planned.append(cell)
            memo[cell] = known
            if known.plan.entries:
                plans[cell] = known.plan
        self._memo = memo
        return plans


def _cell_entries(
    session: Session,
    cell: str,
    protocols: Mapping[str, Sequence[Mapping[str, Any]]],
    keys: frozenset[ExclusionKey],
    shared: tuple[dict[str, str], dict[tuple[str, ...], tuple[str, ...]]],
) -> list[EntryPlan]:
    """Return a cell's kept entries (absolute metadata, traces to drop).

    A protocol's eCode override is its entries' ``ecode`` key, as in
    :meth:`~efex_gui.core.session.document.Session.to_extract_kwargs`. ``shared``:
    the resolved paths and the keys tuples of the plan cache.
    """
    from efex_gui.core.recordings.ecodes import write_ecode_overrides

    paths, key_tuples = shared
    entries = []
    for protocol, position, config, dropped in kept_entries(
        cell, protocols, session.exclusions, keys
    ):
        absolute = _absolute(session, config, paths)
        write_ecode_overrides([(protocol, [absolute])], session.ecode_overrides)
        names = tuple(absolute)
        values = tuple(absolute.values())
        source = config if type(config) is CompactMapping else None
        if source is not None:  # what the read-only entry does not hold
            values = tuple(
                value
                for at, (name, value) in enumerate(absolute.items())
                if at >= len(source) or (name in PATH_KEYS and source[name])
            )
        entries.append(
            EntryPlan(
                cell,
                protocol,
                position,
                key_tuples.setdefault(names, names),
                values,
                dropped,
                source,
            )
        )
    return entries


def _absolute(
    session: Session, config: Mapping[str, Any], paths: dict[str, str]
) -> dict[str, Any]:
    """One entry's metadata with absolute paths (a shallow copy: never mutated).

    ``paths`` memoises the session's resolution by path (in the session's data
    root).
    """

    def resolve(path: str) -> str:
        known = paths.get(path)
        if known is None:
            known = paths[path] = session.resolve(path)
        return known

    return with_absolute_paths(config, resolve, deep=False)


def snapshot_metadata(
    protocols: Mapping[str, Sequence[Mapping[str, Any]]],
    key_tuples: dict[tuple[str, ...], tuple[str, ...]],
) -> _CellSnapshot:
    """Return what :func:`unchanged_metadata` compares a cell's metadata with later.

    Tuples, not a copy of the dicts: a session's plans keep one per entry, and an
    entry's dict took about five times the memory of its values' tuple. A
    protocol's keys and values are two columns (a pair per entry took 56 B more).
    Read-only entries (:class:`~efex_gui.core.recordings.compact.CompactMapping`,
    the GUI's: replaced, never changed) are kept themselves: nothing per entry.
    """
    return tuple(
        (protocol, _protocol_snapshot(entries, key_tuples))
        for protocol, entries in protocols.items()
    )


def _protocol_snapshot(
    entries: Sequence[Mapping[str, Any]],
    key_tuples: dict[tuple[str, ...], tuple[str, ...]],
) -> _ProtocolSnapshot:
    if all(type(c) is CompactMapping for c in entries):
        return (None, tuple(entries))
    return (
        tuple(key_tuples.setdefault(tuple(c), tuple(c)) for c in entries),
        tuple(tuple(_copy(value) for value in c.values()) for c in entries),
    )


def unchanged_metadata(
    snapshot: _CellSnapshot, protocols: Mapping[str, Sequence[Mapping[str, Any]]]
) -> bool:
    """Whether a cell's metadata is what :func:`snapshot_metadata` saw (in order).

    Asked of every cell at every signature and every run (three times per
    exclusion click): the entries are compared column by column in C (``map``),
    without a Python step per entry; read-only entries by identity.
    """
    if len(snapshot) != len(protocols):
        return False
    for (protocol, (keys, values)), (name, configs) in zip(
        snapshot, protocols.items(), strict=True
    ):
        if protocol != name or len(values) != len(configs):
            return False
        if keys is None:
            if not all(map(operator.is_, values, configs)):
                return False
        elif (
            tuple(map(tuple, configs)) != keys
            or tuple(map(tuple, map(_VALUES, configs))) != values
        ):
            return False
    return True


_VALUES = operator.methodcaller("values")


def _copy(value: Any) -> Any:
    """Copy JSON-like data (dicts and lists copied, the rest shared).

    What the plan compares a cell's metadata with; faster than ``copy.deepcopy``.
    """
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    if isinstance(value, set | tuple):
        return copy.deepcopy(value)
    return value
