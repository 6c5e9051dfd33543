"""The work done on one cell in a worker: read → rheobase → features → drop traces.

BluePyEfe (spec §2.12) reads every cell, computes the targeted features on **every**
recording of a targeted protocol, then the rheobase, then keeps the recordings within
a target's amplitude window. The features of the other recordings never reach an
output, so :class:`CellTask` changes the order, not the numbers:

1. read the cell's files, each file once (a protocol that reuses another protocol's
   files, like SSCx ``Step``, shares its traces), with deferred spike counts;
2. compute the cell's rheobase (it needs the spike counts of ``protocols_rheobase``
   only: the other recordings never pay for theirs) and the relative amplitudes;
3. compute the features, one efel call per recording and settings group, on the
   recordings that some (protocol, amplitude) window of the targets holds, with the
   same criterion as :func:`~efex_gui.core.extraction.grouping.group_by_target`;
4. drop the traces when nobody will look at them, so a worker holds one cell at a
   time and sends back only numbers.

Every step is per cell, so ``map_function`` (process pool, dask) gets one task per cell
and nothing else to synchronise. ``extract_all_recordings=True`` restores BluePyEfe's
"every recording of a targeted protocol" (``docs/compatibility.md``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from efex_gui.core.extraction.feature_cache import (
    FeatureCache,
    extract_cell_features,
    target_groups,
)
from efex_gui.core.extraction.spike_cache import spike_counts_cached
from efex_gui.core.rheobase.strategies import cell_rheobase, check_rheobase_settings

if TYPE_CHECKING:
    from collections.abc import Callable, Collection, Iterable, Mapping, Sequence

    from efex_gui.core.extraction.feature_cache import CacheStats
    from efex_gui.core.extraction.feature_store import FeatureStore

__all__ = [
    "CellTask",
    "amplitude_windows",
    "extract_cell_features",
    "matched_recordings",
    "release_traces",
]

#: (settings, protocol, efel names, output names), as ``target_groups`` gives
TargetGroup = tuple[dict[str, Any], str, list[str], list[str]]


def amplitude_windows(
    targets: Iterable[Mapping[str, Any]],
) -> list[tuple[str, Any, Any]]:
    """Return the ``(protocol, amplitude, tolerance)`` windows grouping will use.

    One per (protocol, amplitude), with the tolerance of its first target (spec §2.5,
    §9.1-9), in first-seen order.
    """
    windows: list[tuple[str, Any, Any]] = []
    seen: list[tuple[str, Any]] = []
    hashable: set[tuple[str, Any]] = set()
    for target in targets:
        name, amplitude = target["protocol"], target["amplitude"]
        try:  # a set lookup for the usual numbers, equality for anything else
            new = (name, amplitude) not in hashable
        except TypeError:
            new = not any(w == (name, amplitude) for w in seen)
        if new:
            try:
                hashable.add((name, amplitude))
            except TypeError:
                seen.append((name, amplitude))
            windows.append((name, amplitude, target["tolerance"]))
    return windows


def matched_recordings(
    cell: Any,
    windows: Sequence[tuple[str, Any, Any]],
    absolute_amplitude: bool = False,
) -> list[Any]:
    """Return the recordings of ``cell`` that some window holds.

    This is ``group_efeatures``' criterion.

    Without a rheobase (relative amplitudes) a cell contributes no recording.
    """
    if cell.rheobase is None and not absolute_amplitude:
        return []
    matched: dict[int, Any] = {}
    for name, amplitude, tolerance in windows:
        for recording in cell.get_recordings_by_protocol_name(name):
            if id(recording) not in matched and recording.in_target(
                amplitude, tolerance, absolute_amplitude
            ):
                matched[id(recording)] = recording
    return [rec for rec in cell.recordings if id(rec) in matched]


def release_traces(cell: Any, keep_spikecount: bool = True) -> None:
    """Drop every recording's traces (see ``Recording.drop_traces``)."""
    for recording in cell.recordings:
        if hasattr(recording, "spikecount_pending"):
            recording.drop_traces(keep_spikecount=keep_spikecount)
        else:  # a foreign recording class
            recording.t = recording.voltage = recording.current = None
            recording.reader_data = None


@dataclass
class CellTask:
    """One cell's whole extraction, as a picklable callable for ``map_function``.

    The one per-cell sequence of every extraction: ``extract_efeatures`` maps the
    whole task (:meth:`__call__`) over the cells; the GUI's incremental runner reads
    the cell from its caches and calls the steps (:meth:`rheobase`,
    :meth:`features`) itself, between its progress reports and reuse checks.

    Attributes
    ----------
    read : callable
        ``read((cell_name, protocols)) -> Cell`` (``read_and_extract.read_cell``
        bound to the reader, settings and strictness).
    groups : list, optional
        Target groups; None stops after the rheobase (auto branch, first pass).
    efel_settings : mapping, optional
        Global efel settings.
    protocols_rheobase, rheobase_strategy, rheobase_settings, rheobase_overrides
        As ``compute_rheobase``; ``absolute_amplitude=True`` skips the rheobase.
    windows : list
        ``amplitude_windows(targets)``.
    extract_all_recordings : bool
        BluePyEfe's behaviour: features on every recording of a targeted protocol.
    drop : bool
        Drop the traces after the features.
    keep_spikecount : bool
        With ``drop``: compute the deferred spike counts first (pickles, callers that
        read ``peak_time``); False when nobody will read them.
    store : FeatureStore, optional
        The persistent feature cache (values and the rheobase's spike counts
        computed once, reused by every later run); picklable, opened in each worker
        process.
    rheobase : bool, optional
        Compute the rheobase (default: when the task reads the cell).
    """

    read: Callable[[Any], Any] | None = None
    groups: list[TargetGroup] | None = None
    efel_settings: Mapping[str, Any] | None = None
    protocols_rheobase: Sequence[str] | None = None
    rheobase_strategy: str = "absolute"
    rheobase_settings: Mapping[str, Any] | None = None
    rheobase_overrides: Mapping[str, float] | None = None
    absolute_amplitude: bool = False
    windows: list[tuple[str, Any, Any]] | None = None
    extract_all_recordings: bool = False
    drop: bool = False
    keep_spikecount: bool = True
    store: FeatureStore | None = None
    rheobase: bool | None = None

    @classmethod
    def at_targets(
        cls, targets: Sequence[Mapping[str, Any]], **fields: Any
    ) -> CellTask:
        """Return a task computing ``targets`` (prepared): their groups and windows.

        ``fields`` are the other attributes.
        """
        return cls(
            groups=target_groups(targets), windows=amplitude_windows(targets), **fields
        )

    def __call__(self, item: Any) -> Any:
        """Run the task on ``(cell_name, protocols)`` (with ``read``) or on a Cell."""
        cell = self.read(item) if self.read is not None else item
        rheobase = self.read is not None if self.rheobase is None else self.rheobase
        if rheobase and not self.absolute_amplitude:
            self.compute_rheobase(cell)
        if self.groups is None:
            return cell
        cache = None if self.store is None else FeatureCache(store=self.store)
        self.features(cell, cache)
        if self.drop:
            release_traces(cell, self.keep_spikecount)
        return cell

    def compute_rheobase(self, cell: Any) -> Any:
        """Give ``cell`` its rheobase (the override if any) and relative amplitudes.

        Spike counts come from, and go to, the persistent ``store``.

        Returns
        -------
        float or None
            The strategy's rheobase, before the cell's override.
        """
        check_rheobase_settings(self.rheobase_strategy, self.rheobase_settings)
        with spike_counts_cached(cell.recordings, self.store):
            return cell_rheobase(
                cell,
                self.protocols_rheobase or (),
                self.rheobase_strategy,
                self.rheobase_settings,
                override=(self.rheobase_overrides or {}).get(cell.name),
            )

    def features(
        self,
        cell: Any,
        cache: FeatureCache | None = None,
        *,
        done: Collection[int] = (),
        stats: CacheStats | None = None,
        cancel: Any = None,
    ) -> None:
        """Compute the targeted features on the recordings some window holds.

        Every recording of a targeted protocol with ``extract_all_recordings``.

        Parameters
        ----------
        cell : Cell
            The cell (mutated), with its rheobase.
        cache : FeatureCache, optional
            Per-sweep values computed once (see ``extract_cell_features``).
        done : collection of int
            ids of recordings that already have their features (skipped).
        stats, cancel
            As ``extract_cell_features``.
        """
        chosen = None
        if not self.extract_all_recordings:
            chosen = [
                recording
                for recording in matched_recordings(
                    cell, self.windows or [], self.absolute_amplitude
                )
                if id(recording) not in done
            ]
        extract_cell_features(
            cell,
            self.groups or [],
            self.efel_settings,
            chosen,
            cache=cache,
            stats=stats,
            cancel=cancel,
        )
