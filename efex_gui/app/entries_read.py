"""What the browser read, as the extraction and the metadata see it.

:class:`EntriesRead` is the snapshot of the browser's recordings an extraction
borrows instead of reading the files again; :func:`window_read_with` and
:func:`read_with` keep an entry's metadata and its recordings read in agreement
about the stimulus window, so that the extraction can borrow them (its ``_reuse``
compares the metadata).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from efex_gui.core.recordings.compact import CompactMapping
from efex_gui.core.recordings.timing_consensus import SOURCE_KEY
from efex_gui.core.session.dataset import EntryKey

if TYPE_CHECKING:
    from collections.abc import Iterator

    from efex_gui.app.browsed_recordings import BrowsedRecordings
    from efex_gui.core.recordings.frozen import FrozenEntries

__all__ = ["WINDOW_KEYS", "EntriesRead", "read_with", "window_read_with"]


#: the metadata keys of a stimulus window
WINDOW_KEYS = ("ton", "toff")


def window_read_with(recordings: list[Any]) -> dict[str, Any] | None:
    """Return the window an entry's sweeps were read with, if all read one.

    A Ramp's window is found on the file's current and put in the metadata the
    sweeps are read with (``ramp_windows``); None when the sweeps were read without
    a window (steps: the consensus comes after), or with different ones.
    """
    windows = {
        tuple(r.config_data.get(k) for k in (*WINDOW_KEYS, SOURCE_KEY))
        for r in recordings
        if r is not None
    }
    if len(windows) != 1:
        return None
    (window,) = windows
    if any(value is None for value in window[:2]):
        return None
    return dict(zip((*WINDOW_KEYS, SOURCE_KEY), window, strict=True))


def read_with(recordings: list[Any], written: Mapping[str, Any]) -> None:
    """Give recordings read the consensus window written into their entry's metadata.

    They were interpreted with that window, as its metadata (``apply_consensus``),
    so they are what a read of the entry's new metadata gives, and the extraction
    can borrow them instead of reading the files again (``_reuse`` compares the
    metadata). Only if every recording took the consensus; otherwise the
    extraction reads the entry.
    """
    if not recordings or not all(
        r is not None and r.stimulus_source == "consensus" for r in recordings
    ):
        return
    shared: dict[int, CompactMapping] = {}  # an entry's recordings share one
    for recording in recordings:
        config = recording.config_data
        new = shared.get(id(config))
        if new is None:
            new = shared[id(config)] = CompactMapping({**config, **written})
        recording.config_data = new


class EntriesRead(Mapping[tuple[str, str, int], tuple[Mapping[str, Any], list[Any]]]):
    """What the browser read, by ``(cell, protocol, position)``, for the extraction.

    A snapshot of the store's recordings and read settings (shallow dict copies:
    the store replaces an entry's list, never changes it): no tuple, key or
    settings copy per entry, which took 0.4 kB a sweep. The frozen cells are thawed
    when asked, one at a time (the extraction asks a cell's entries together), on
    the thread that asks: the Recordings are the extraction's own.
    """

    __slots__ = ("_frozen", "_keys", "_recordings", "_settings", "_strings", "_thawed")

    def __init__(
        self,
        recordings: BrowsedRecordings,
        settings: Mapping[EntryKey, Mapping[str, Any]],
    ) -> None:
        self._settings = dict(settings)
        self._strings = recordings.strings
        live, frozen = recordings.snapshot()
        self._recordings = {k: v for k, v in live.items() if k in self._settings}
        self._frozen: dict[str, FrozenEntries[EntryKey]] = frozen
        self._keys = [
            k for f in frozen.values() for k in f.keys if k in self._settings
        ]  # fmt: skip
        self._thawed: tuple[str, dict[EntryKey, list[Any]]] = ("", {})

    def __getitem__(
        self, ref: tuple[str, str, int]
    ) -> tuple[Mapping[str, Any], list[Any]]:
        try:
            key = EntryKey(*ref)
            settings = self._settings[key]
        except TypeError:  # not a (cell, protocol, position)
            raise KeyError(ref) from None
        recordings = self._recordings.get(key)
        if recordings is None:
            recordings = self._frozen_entries(key.cell)[key]
        return settings, recordings

    def _frozen_entries(self, cell: str) -> dict[EntryKey, list[Any]]:
        thawed = self._thawed
        if thawed[0] != cell:
            frozen = self._frozen.get(cell)
            thawed = (cell, {} if frozen is None else frozen.thaw(self._strings))
            self._thawed = thawed
        return thawed[1]

    def __iter__(self) -> Iterator[tuple[str, str, int]]:
        for key in (*self._recordings, *self._keys):
            yield (key.cell, key.protocol, key.entry)

    def __len__(self) -> int:
        return len(self._recordings) + len(self._keys)
