"""Recordings kept frozen: pickled and compressed, a few hundred bytes a sweep.

The browser keeps what it read of every cell opened: amplitudes, spike times, QC
measures, metadata, the memo of the cache keys. As Python objects that is 1.5 kB a
sweep, so 440 cells (70 000 sweeps) held about 110 MB. The cells a person is not
looking at are kept as :class:`FrozenEntries` instead (about 0.2 kB a sweep): one
compressed pickle of a cell's recordings, made again into Recordings when asked
(about 3 ms for a cell of 160 sweeps). Traces are never frozen: the recordings must
have dropped them.
"""

from __future__ import annotations

import pickle
import zlib
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from efex_gui.core.recordings.compact import KeyMemo, compact_for_browsing

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

__all__ = ["FrozenEntries"]

K = TypeVar("K")

#: zlib's fastest level: a cell takes about 1 ms, and 3.5 times less room
_LEVEL = 1


def _memo_items(recording: Any) -> tuple[Any, ...] | None:
    """Return a recording's memo of its cache keys as a tuple (None: it has none)."""
    memo = getattr(recording, "cache_keys", None)
    return memo.as_tuple() if isinstance(memo, KeyMemo) else None


class FrozenEntries(Generic[K]):
    """The recordings of some entries, frozen (see the module docstring).

    Parameters
    ----------
    entries : mapping
        Entry key → its recordings (None for a trace that could not be read). The
        recordings must hold no traces (``drop_traces``); they are not changed.

    Raises
    ------
    ValueError
        A recording still holds its traces.
    """

    __slots__ = ("_blob", "keys", "sweeps")

    def __init__(self, entries: Mapping[K, Sequence[Any]]) -> None:
        lists = [list(recordings) for recordings in entries.values()]
        if any(getattr(r, "voltage", None) is not None for rs in lists for r in rs):
            raise ValueError("drop the traces before freezing recordings")
        memos = [[_memo_items(r) for r in recordings] for recordings in lists]
        #: the entries, in the order given
        self.keys: tuple[K, ...] = tuple(entries)
        #: how many recordings (not None) the entries hold
        self.sweeps = sum(r is not None for rs in lists for r in rs)
        raw = pickle.dumps((lists, memos), protocol=pickle.HIGHEST_PROTOCOL)
        self._blob = zlib.compress(raw, _LEVEL)

    @property
    def nbytes(self) -> int:
        """Return the number of bytes the frozen recordings take (compressed)."""
        return len(self._blob)

    def thaw(self, strings: Mapping[str, str] | None = None) -> dict[K, list[Any]]:
        """Return new Recordings equal to those frozen, by entry, in order.

        They are as the browser keeps them (:func:`compact_for_browsing`), with
        their memo of cache keys; nothing is shared with another thaw.

        Parameters
        ----------
        strings : mapping, optional
            A table of strings to share (the session's absolute paths): the
            metadata's and file lists' strings found in it are its very objects,
            not copies of their own.
        """
        lists, memos = pickle.loads(zlib.decompress(self._blob))
        shared: set[int] = set()  # the metadata dicts already given the strings
        for recordings, items in zip(lists, memos, strict=True):
            for recording, memo in zip(recordings, items, strict=True):
                if recording is None:
                    continue
                if memo is not None:
                    recording.cache_keys = KeyMemo.from_tuple(memo)
                if strings:
                    _share_strings(recording, strings, shared)
            compact_for_browsing(recordings)
        return dict(zip(self.keys, lists, strict=True))


def _share_strings(recording: Any, strings: Mapping[str, str], done: set[int]) -> None:
    """Put ``strings``' objects in a thawed recording's metadata and file list.

    An entry's recordings share one metadata dict: ``done`` holds the ids of those
    already given the strings.
    """
    config = getattr(recording, "config_data", None)
    if isinstance(config, dict) and id(config) not in done:
        done.add(id(config))
        for name, value in config.items():
            if type(value) is str:
                config[name] = strings.get(value, value)
    files = getattr(recording, "files", None)
    if isinstance(files, list):
        recording.files = [
            strings.get(f, f) if type(f) is str else f for f in files
        ]  # fmt: skip
