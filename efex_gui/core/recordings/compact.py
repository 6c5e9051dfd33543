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

import numpy as np

from efex_gui.core.importing.file_names import PATH_KEYS

__all__ = [
    "CompactMapping",
    "KeyMemo",
    "SharedValues",
    "compact_features",
    "compact_for_browsing",
]

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


#: a recording's attributes whose values repeat from sweep to sweep: the stimulus
#: window and the end of the sweep, the sampling step, the holding current, the name
SHARED_ATTRIBUTES = ("ton", "toff", "tend", "dt", "hypamp", "protocol_name")
#: longer strings are not shared: a name or a unit is shorter; a longer text (a
#: note, a path under another key) is more likely one of its kind
_SHORT = 40
_ABSENT = object()


class SharedValues:
    """One object per distinct value, for the recordings an extraction's result keeps.

    A result keeps a copy of every sweep, and each copy its own objects for values
    most sweeps have in common: the stimulus window (``ton``, ``toff``, ``tend``),
    the sampling step, the metadata's units, liquid junction potential and protocol
    name. As NumPy scalars and strings that took about 0.3 kB a sweep.
    :meth:`share` gives back the first object seen equal to a value, of the same
    type (a ``numpy.float64`` is never replaced by a ``float``, ``-0.0`` never by
    ``0.0``: floats are compared by their bits). Only immutable scalars and short
    strings are shared; the table grows with the distinct values, not the sweeps.
    """

    __slots__ = ("_known",)

    def __init__(self) -> None:
        self._known: dict[tuple[type, Any], Any] = {}

    def share(self, value: Any) -> Any:
        """Return the object kept for ``value`` (``value`` itself, the first time)."""
        kind = type(value)
        if kind is float:
            key: Any = value.hex()
        elif kind is str:
            if len(value) > _SHORT:
                return value
            key = value
        elif kind is int or kind is bool:
            key = value
        elif isinstance(value, np.generic) and kind in _NUMPY_SCALARS:
            key = value.tobytes()
        else:
            return value
        return self._known.setdefault((kind, key), value)

    def share_recordings(self, recordings: list[Any]) -> None:
        """Give recordings whose state is final the shared objects of their values.

        Their :data:`SHARED_ATTRIBUTES` and their metadata's values (a
        :class:`CompactMapping` afterwards, one per metadata dict or mapping the
        recordings shared). Nothing a reader of the recordings sees changes: each
        value is equal and of the same type.
        """
        configs: dict[int, tuple[Any, CompactMapping]] = {}
        for recording in recordings:
            for name in SHARED_ATTRIBUTES:
                value = getattr(recording, name, _ABSENT)
                if value is not _ABSENT:
                    shared = self.share(value)
                    if shared is not value:
                        setattr(recording, name, shared)
            config = getattr(recording, "config_data", None)
            if not isinstance(config, dict | CompactMapping):
                continue
            known = configs.get(id(config))
            if known is None:
                known = configs[id(config)] = (config, self.share_metadata(config))
            recording.config_data = known[1]

    def share_metadata(self, config: Mapping[str, Any]) -> CompactMapping:
        """Return a :class:`CompactMapping` of ``config`` with its values shared.

        File paths are left as they are: one per file, the table would only add
        an entry per file (the session's table of paths shares them).
        """
        return CompactMapping(
            {
                name: value if name in PATH_KEYS else self.share(value)
                for name, value in config.items()
            }
        )


#: the NumPy scalar types shared by value (bool, integers, floats)
_NUMPY_SCALARS = frozenset(
    {np.bool_, np.float16, np.float32, np.float64, np.longdouble}
    | {np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16, np.uint32}
    | {np.uint64}
)
