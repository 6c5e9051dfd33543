"""Reading one protocol of one cell as a group: consensus window, then QC measures.

The GUI reads a folder entry by entry on its worker thread; the consensus window of a
protocol needs all of its sweeps with their traces, and the QC measures need the final
window. :func:`load_protocol_group` reads the entries of one (cell, protocol), applies
the consensus (:func:`~efex_gui.core.recordings.timing_consensus.apply_consensus`)
to the sweeps whose window was only detected, then measures every sweep
(:func:`~efex_gui.core.recordings.sweep_qc.measure`), before the traces may be
dropped. The consensus is returned as metadata (:func:`consensus_metadata`) that the
caller writes into the entries, so that a later re-read, an extraction and an exported
files_metadata all use the same window.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from efex_gui.core.recordings.sweep_qc import measure
from efex_gui.core.recordings.timing_consensus import (
    SOURCE_KEY,
    ProtocolTiming,
    apply_consensus,
)
from efex_gui.core.session.dataset import EntryKey, LoadedEntry, load_config

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

__all__ = ["consensus_metadata", "load_protocol_group", "measure_entry"]


def consensus_metadata(timing: ProtocolTiming) -> dict[str, Any]:
    """Return the metadata keys a consensus writes into each entry of its protocol."""
    return {"ton": timing.ton, "toff": timing.toff, SOURCE_KEY: "consensus"}


def measure_entry(result: LoadedEntry) -> LoadedEntry:
    """Take the QC measures of every recording of an entry (traces still there)."""
    for recording in result.recordings:
        if recording is not None:
            measure(recording)
    return result


def load_protocol_group(
    jobs: Sequence[tuple[EntryKey, dict[str, Any]]],
    ecode_overrides: Mapping[str, str] | None = None,
    efel_settings: Mapping[str, Any] | None = None,
    consensus: bool = True,
    check: Callable[[], None] | None = None,
    *,
    count_spikes: bool = True,
) -> tuple[list[LoadedEntry], ProtocolTiming | None]:
    """Read the entries of one protocol of one cell; consensus window; QC measures.

    Parameters
    ----------
    jobs : sequence of (EntryKey, dict)
        The entries (same cell and protocol) with their absolute metadata.
    ecode_overrides, efel_settings : mapping, optional
        As for :func:`~efex_gui.core.session.dataset.load_config`.
    consensus : bool
        Form the consensus window (False: each sweep keeps its own window).
    check : callable, optional
        Called between entries (raises to cancel).
    count_spikes : bool
        Count the spikes (False: left deferred, for the caller to take them from
        the persistent cache; :func:`~efex_gui.core.session.dataset.count_spikes_of`
        counts the others). The consensus window defers them again anyway.

    Returns
    -------
    tuple
        The read entries, and the protocol's :class:`ProtocolTiming` (None when no
        consensus was formed: switched off, or no Step sweep with a detected window).
    """
    results = []
    for key, config in jobs:
        if check is not None:
            check()
        results.append(
            load_config(
                key, config, ecode_overrides, efel_settings, count_spikes=count_spikes
            )
        )
    timing = None
    if consensus and jobs:
        recordings = [r for res in results for r in res.recordings if r is not None]
        cell, protocol = jobs[0][0].cell, jobs[0][0].protocol
        settings = dict(efel_settings) if efel_settings is not None else None
        timing = apply_consensus(cell, recordings, settings).get(protocol)
    for result in results:
        measure_entry(result)
    return results, timing
