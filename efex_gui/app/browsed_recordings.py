"""BrowsedRecordings: what the browser read, recent cells as objects, the others frozen.

A mapping of entry → its Recordings (traces dropped unless drawn). The cells used
most recently (up to :data:`LIVE_SWEEPS` sweeps) keep their Recordings as objects;
the others are kept frozen (:class:`~efex_gui.core.recordings.frozen.FrozenEntries`,
0.2 kB a sweep instead of 1.5 kB) and made objects again, in about 3 ms a cell, when
an entry of theirs is asked for. So the browser's memory is bounded by the cells in
use, not by the cells opened, like its traces (``TRACE_CACHE_ENTRIES``).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from efex_gui.core.recordings.frozen import FrozenEntries

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from efex_gui.core.session.dataset import EntryKey

#: entry → its Recordings (None: a trace that could not be read)
Entries = dict["EntryKey", list[Any]]

#: sweeps whose Recordings stay objects (the cells used last, whole cells): about
#: 15 MB, 60 cells of 160 sweeps. Within it nothing is thawed on a click: an
#: exclusion that changes a frozen cell's rheobase thaws it (5 ms), eleven cells
#: sharing one file took 55 ms more per click at 2 000 (44 cells of shared files).
LIVE_SWEEPS = 10_000


def _count(recordings: list[Any]) -> int:
    return sum(r is not None for r in recordings)


class BrowsedRecordings(Mapping["EntryKey", list[Any]]):
    """Entry → the Recordings read for it (see the module docstring).

    Reading an entry (``[key]``, ``get``) makes its cell the most recently used,
    thawing it if frozen, and the cell *in use*: no other cell's entries freeze it.
    Entries read in the background (``set(..., in_use=False)``) go in as the most
    recently used but leave the cell in use alone, so a long first read does not
    freeze the cell on screen. :meth:`cell_entries` reads a cell without changing
    what is kept; :meth:`live` never thaws.

    Parameters
    ----------
    on_thaw : callable
        Called with the cell name and its entries each time frozen Recordings are
        made objects again (the browser gives them the cell's current rheobase).
    strings : mapping, optional
        The session's table of path strings, shared by thawed Recordings
        (``FrozenEntries.thaw``).
    """

    def __init__(
        self,
        on_thaw: Callable[[str, dict[EntryKey, list[Any]]], None],
        strings: Mapping[str, str] | None = None,
    ) -> None:
        self._on_thaw = on_thaw
        #: the strings thawed Recordings share (the session's paths)
        self.strings: Mapping[str, str] = {} if strings is None else strings
        self._live: dict[EntryKey, list[Any]] = {}
        #: the live cells' entries (in the order read), least recently used cell first
        self._cells: OrderedDict[str, dict[EntryKey, None]] = OrderedDict()
        self._live_sweeps = 0
        #: the cell asked for last (never frozen for another's entries)
        self._in_use: str | None = None
        #: the frozen cells, and the live ones unchanged since they were thawed
        self._frozen: dict[str, FrozenEntries[EntryKey]] = {}
        #: how many times a cell was frozen (a snapshot older than that keeps
        #: Recordings that the browser let go)
        self.freezes = 0
        #: how many times a frozen cell was made objects again (kept or not)
        self.thaws = 0

    # --- Mapping ------------------------------------------------------------------
    def __getitem__(self, key: EntryKey) -> list[Any]:
        if key not in self:  # (an entry not read does not make its cell used)
            raise KeyError(key)
        self._in_use = key.cell
        self._use(key.cell)
        return self._live[key]

    def __contains__(self, key: object) -> bool:
        if key in self._live:
            return True
        cell = getattr(key, "cell", None)
        if not isinstance(cell, str) or cell in self._cells:
            return False
        frozen = self._frozen.get(cell)
        return frozen is not None and key in frozen.keys

    def __iter__(self) -> Iterator[EntryKey]:
        yield from self._live
        for cell, frozen in self._frozen.items():
            if cell not in self._cells:
                yield from frozen.keys

    def __len__(self) -> int:
        frozen = sum(
            len(f.keys) for c, f in self._frozen.items() if c not in self._cells
        )
        return len(self._live) + frozen

    # --- changes ------------------------------------------------------------------
    def set(self, key: EntryKey, recordings: list[Any], in_use: bool = True) -> None:
        """Keep ``recordings`` (traces dropped or not) as what was read for ``key``.

        ``in_use``: the entry was read for the person (drawn), its cell becomes the
        cell in use; False: read in the background.
        """
        if in_use:
            self._in_use = key.cell
        self._use(key.cell)
        self._changed(key.cell)
        self._live_sweeps -= _count(self._live.get(key, []))
        self._live[key] = recordings
        self._live_sweeps += _count(recordings)
        self._cells[key.cell][key] = None
        self._evict(key.cell)

    def pop(self, key: EntryKey) -> list[Any] | None:
        """Forget what was read for ``key``; return it (None: nothing)."""
        if key not in self:
            return None
        self._use(key.cell)
        self._changed(key.cell)
        recordings = self._live.pop(key)
        self._cells[key.cell].pop(key, None)
        self._live_sweeps -= _count(recordings)
        return recordings

    def clear(self) -> None:
        """Forget everything."""
        self.freezes += 1
        self._live.clear()
        self._cells.clear()
        self._frozen.clear()
        self._live_sweeps = 0
        self._in_use = None

    # --- reading without changing what is kept -----------------------------------
    def live(self, key: EntryKey) -> list[Any] | None:
        """Return an entry's Recordings if they are objects now (never thaws)."""
        return self._live.get(key)

    def cell_entries(self, cell: str) -> dict[EntryKey, list[Any]]:
        """Return a cell's entries, thawed for the caller alone if frozen.

        What is kept does not change: a frozen cell stays frozen (the Recordings
        returned are new ones), a live one is not made the most recently used.
        """
        keys = self._cells.get(cell)
        if keys is not None:
            return {k: self._live[k] for k in keys}
        frozen = self._frozen.get(cell)
        if frozen is None:
            return {}
        return self._thaw(cell, frozen)

    def live_cell(self, cell: str) -> dict[EntryKey, list[Any]]:
        """Return a live cell's entries (empty if frozen or never read; no thaw)."""
        return {k: self._live[k] for k in self._cells.get(cell, ())}

    def cells(self) -> list[str]:
        """Return the cells with entries read (live ones first, least recent first)."""
        return [*self._cells, *(c for c in self._frozen if c not in self._cells)]

    def snapshot(
        self,
    ) -> tuple[dict[EntryKey, list[Any]], dict[str, FrozenEntries[EntryKey]]]:
        """Return the live entries and the frozen cells, as they are now (copies).

        The lists and frozen cells are shared: neither is changed in place.
        """
        frozen = {c: f for c, f in self._frozen.items() if c not in self._cells}
        return dict(self._live), frozen

    @property
    def live_sweeps(self) -> int:
        """Return how many Recordings are objects now."""
        return self._live_sweeps

    # --- the cache ----------------------------------------------------------------
    def _use(self, cell: str) -> None:
        """Make ``cell`` the most recently used; thaw it if frozen."""
        if cell in self._cells:
            self._cells.move_to_end(cell)
            return
        self._cells[cell] = {}
        frozen = self._frozen.get(cell)
        if frozen is not None:
            entries = self._thaw(cell, frozen)
            self._live.update(entries)
            self._cells[cell] = dict.fromkeys(entries)
            self._live_sweeps += frozen.sweeps
        self._evict(cell)

    def _thaw(
        self, cell: str, frozen: FrozenEntries[EntryKey]
    ) -> dict[EntryKey, list[Any]]:
        """Make a frozen cell's Recordings objects again (new ones)."""
        self.thaws += 1
        entries = frozen.thaw(self.strings)
        self._on_thaw(cell, entries)
        return entries

    def _changed(self, cell: str) -> None:
        """Forget a live cell's frozen copy: its entries change."""
        self._frozen.pop(cell, None)

    def _evict(self, keep: str) -> None:
        """Freeze the least recently used cells while too many sweeps are objects.

        Neither ``keep`` (the cell just used) nor the cell in use is frozen.
        """
        spared = {keep, self._in_use}
        while self._live_sweeps > LIVE_SWEEPS:
            cell = next((c for c in self._cells if c not in spared), None)
            if cell is None:
                return
            self._freeze(cell)

    def _freeze(self, cell: str) -> None:
        self.freezes += 1
        keys = self._cells.pop(cell)
        entries = {k: self._live.pop(k) for k in keys}
        self._live_sweeps -= sum(_count(r) for r in entries.values())
        if not entries:
            self._frozen.pop(cell, None)
            return
        if cell not in self._frozen:  # changed since thawed, or never frozen
            for recordings in entries.values():
                for recording in recordings:
                    if getattr(recording, "voltage", None) is not None:
                        recording.drop_traces()
            self._frozen[cell] = FrozenEntries(entries)
