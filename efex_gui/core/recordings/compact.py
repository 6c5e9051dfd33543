"""Per-sweep dicts in a compact, read-only form, for those the GUI keeps all day.

The browser keeps a recording per sweep of every cell opened, and an extraction's
result a copy of each: their dicts add up. A recording's metadata (``config_data``:
file paths, units, window) took about 0.46 kB a sweep as a dict, and its features
(``efeatures``) about 0.5 kB. :class:`CompactMapping` keeps the values in one tuple
and shares each key layout between all the mappings that have it (about 0.15 kB).
It reads as a mapping, compares equal to the dict it was made from, and pickles and
copies as that dict (a copy is the caller's to modify). The GUI's session entries
are compact mappings too (``Dataset.make_read_only``), and the browser's recordings
keep their spike times packed in bytes.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

__all__ = ["CompactMapping", "KeyMemo", "compact_features", "compact_for_browsing"]

#: key layouts by key tuple: (the keys, key → position), one per distinct layout
_LAYOUTS: dict[tuple[str, ...], tuple[tuple[str, ...], dict[str, int]]] = {}
#: each eCode class's ``export_attr`` list, shared by its compacted recordings
_EXPORTED: dict[type, list[str]] = {}


class CompactMapping(Mapping[str, Any]):
    """A read-only mapping of names to values (see the module docstring).

    Parameters
    ----------
    config : mapping
        The items; its keys, in order, and values are kept (not copied).
    """

    __slots__ = ("_layout", "_values")

    def __init__(self, config: Mapping[str, Any]) -> None:
        names = tuple(config)
        layout = _LAYOUTS.get(names)
        if layout is None:
            layout = _LAYOUTS[names] = (names, {n: i for i, n in enumerate(names)})
        self._layout = layout
        self._values = tuple(config.values())

    def __getitem__(self, key: str) -> Any:
        return self._values[self._layout[1][key]]

    def __contains__(self, key: object) -> bool:
        return key in self._layout[1]

    def __iter__(self) -> Iterator[str]:
        return iter(self._layout[0])

    def __len__(self) -> int:
        return len(self._values)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, CompactMapping):
            return self._layout is other._layout and self._values == other._values
        if isinstance(other, Mapping):
            return len(other) == len(self._values) and all(
                name in other and other[name] == value
                for name, value in zip(self._layout[0], self._values, strict=True)
            )
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]  # equal to dicts, which are not

    def __repr__(self) -> str:
        return repr(dict(self))

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickle (and copy) as a plain dict."""
        return (dict, (list(zip(self._layout[0], self._values, strict=True)),))

    def copy(self) -> dict[str, Any]:
        """Return the items as a new dict (``dict.copy``'s, for dict users)."""
        return dict(self)


def compact_for_browsing(recordings: list[Any]) -> None:
    """Make an entry's recordings smaller for the browser to keep, in place.

    The recordings (of one entry: they share one metadata dict) get one
    :class:`CompactMapping` instead, each eCode class's ``export_attr`` list is
    one list shared by its recordings, and the spike times are packed in bytes
    (``pack_peak_time``). Nothing a reader of the recordings sees changes: the
    mapping has the same items, the list the same names, ``peak_time`` the same
    times (a read-only array).
    """
    shared: dict[int, CompactMapping] = {}
    for recording in recordings:
        if recording is None:
            continue
        config = getattr(recording, "config_data", None)
        if isinstance(config, dict):
            compact = shared.get(id(config))
            if compact is None:
                compact = shared[id(config)] = CompactMapping(config)
            recording.config_data = compact
        pack = getattr(recording, "pack_peak_time", None)
        if pack is not None:
            pack()
        exported = getattr(recording, "export_attr", None)
        if isinstance(exported, list):
            kept = _EXPORTED.setdefault(type(recording), exported)
            if kept == exported:
                recording.export_attr = kept


def compact_features(recordings: list[Any]) -> None:
    """Give recordings whose features are final a :class:`CompactMapping` of them.

    For an extraction's result, once a cell's features are computed: they are read
    (grouping, plots, export), never written again.
    """
    for recording in recordings:
        values = getattr(recording, "efeatures", None)
        if isinstance(values, dict):
            recording.efeatures = CompactMapping(values)


class KeyMemo:
    """A recording's memo of its cache keys: name → key, a few of them, in one tuple.

    Every recording the browser keeps has one (its identity and the key of its
    spike count at least): a dict took 0.18 kB of it. The items are one tuple; the
    keys are the strings set (the in-memory feature cache keeps the same strings).
    Reads are lock-free; two threads setting at once may lose one entry, which is
    then computed again.
    """

    __slots__ = ("_items",)

    def __init__(self) -> None:
        self._items: tuple[Any, ...] = ()

    def _position(self, name: object) -> int:
        items = self._items
        for position in range(0, len(items), 2):
            if items[position] == name:
                return position
        return -1

    def __contains__(self, name: object) -> bool:
        return self._position(name) >= 0

    def __getitem__(self, name: str) -> Any:
        position = self._position(name)
        if position < 0:
            raise KeyError(name)
        return self._items[position + 1]

    def __setitem__(self, name: str, value: Any) -> None:
        position = self._position(name)
        items = self._items
        if position < 0:
            self._items = (*items, name, value)
        else:
            self._items = (*items[: position + 1], value, *items[position + 2 :])

    def __len__(self) -> int:
        return len(self._items) // 2

    def as_tuple(self) -> tuple[Any, ...]:
        """Return the names and keys, alternating, in one tuple (shared: immutable)."""
        return self._items

    @classmethod
    def from_tuple(cls, items: tuple[Any, ...]) -> KeyMemo:
        """Return a memo of :meth:`as_tuple`'s tuple."""
        memo = cls()
        memo._items = tuple(items)
        return memo
