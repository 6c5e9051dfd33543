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

A Ramp protocol (APThreshold, ...) needs its window before its sweeps can be read
(BluePyEfe's Ramp requires ``ton``): :func:`ramp_windows` finds each sweep's ramp on
the file's current (:func:`~efex_gui.core.recordings.ramp_window.find_ramp`), forms
the same consensus as for steps and writes it into the entries that have no window;
:func:`load_protocol_group` does it first (the files it reads are kept,
:func:`~efex_gui.core.readers.shared_reads`, so that each is read once), and an
extraction with ``consensus_timing`` (the CLI's folder import) does it per cell as it
reads the cell (:func:`cell_ramp_windows`), in the same way.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from efex_gui.core.recordings.ramp_window import RampWindow, find_ramp
from efex_gui.core.recordings.sweep_qc import measure
from efex_gui.core.recordings.timing_consensus import (
    SOURCE_KEY,
    ProtocolTiming,
    apply_consensus,
    protocol_consensus,
)
from efex_gui.core.session.dataset import EntryKey, LoadedEntry, load_config

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

    from efex_gui.core.readers._common import Reader

__all__ = [
    "cell_ramp_windows",
    "consensus_metadata",
    "load_protocol_group",
    "measure_entry",
    "ramp_windows",
]

Config = dict[str, Any]


def consensus_metadata(timing: ProtocolTiming) -> dict[str, Any]:
    """Return the metadata keys a consensus writes into each entry of its protocol."""
    return {"ton": timing.ton, "toff": timing.toff, SOURCE_KEY: "consensus"}


def _is_ramp_protocol(protocol: str, overrides: Mapping[str, str] | None) -> bool:
    """Whether the protocol's eCode (override, table, or names dictionary) is Ramp."""
    from efex_gui.core.recordings.ecodes.names import guess_from_name

    name = (overrides or {}).get(protocol) or protocol
    return guess_from_name(name).ecode == "Ramp"


def _no_window(config: Mapping[str, Any]) -> bool:
    return config.get("ton") is None and config.get("toff") is None


def _entry_ramps(
    config: Config, reader: Reader
) -> tuple[list[RampWindow | None], float | None]:
    """Each sweep's ramp in an entry's file (None: no current), and the file's dt."""
    from efex_gui.core.recordings.interpretation import raw_traces

    windows: list[RampWindow | None] = []
    dt = None
    for trace in raw_traces(config, reader):
        current = trace.current if trace.i_label == "nA" else None
        if current is None or trace.t_label != "ms" or trace.t.size < 2:
            windows.append(None)
            continue
        dt = float(trace.t[1] - trace.t[0])
        windows.append(find_ramp(current, dt))
    return windows, dt


def ramp_windows(
    cell: str,
    protocol: str,
    configs: Sequence[Config],
    ecode_overrides: Mapping[str, str] | None = None,
    reader: Reader | None = None,
) -> tuple[list[Config], ProtocolTiming | None]:
    """Give the entries of a Ramp protocol without a window their ramp's window.

    Every sweep's ramp is found on the file's current; the protocol's consensus
    (:func:`~efex_gui.core.recordings.timing_consensus.protocol_consensus`) goes
    into the entries with neither ``ton`` nor ``toff``, marked ``"consensus"``;
    without a consensus, an entry whose own sweeps agree on a clear ramp takes
    that window, marked ``"detected"``. Entries with a window are left alone
    (``"user"``/``"file"`` win) but still vote.

    Parameters
    ----------
    cell, protocol : str
        Where (for the messages).
    configs : sequence of dict
        The protocol's entries (absolute paths); not modified.
    ecode_overrides : mapping, optional
        Protocol name → eCode name (a Ramp only if it resolves to Ramp).
    reader : callable, optional
        Replacement for the core's ``read_file``.

    Returns
    -------
    tuple
        The entries (changed ones are copies) and the :class:`ProtocolTiming`
        (None when the protocol is not a Ramp or every entry has a window).
    """
    from efex_gui.core.readers import read_file

    out = [dict(c) for c in configs]
    if not _is_ramp_protocol(protocol, ecode_overrides) or not any(
        _no_window(c) for c in out
    ):
        return out, None
    # BluePyEfe's Cell.read_recordings names the protocol to read (NWB: which
    # sweeps), as load_config does
    read = reader or read_file
    found = [_entry_ramps({"protocol_name": protocol, **c}, read) for c in out]
    dt = next((d for _, d in found if d is not None), 1.0)
    windows = [w for entry, _ in found for w in entry]
    timing = protocol_consensus(cell, protocol, windows, dt, shape="ramp")
    for config, (entry, _) in zip(out, found, strict=True):
        if not _no_window(config):
            continue
        if timing.found:
            config.update(consensus_metadata(timing))
            continue
        own = protocol_consensus(cell, protocol, entry, dt, shape="ramp")
        if own.found:
            config.update(ton=own.ton, toff=own.toff, **{SOURCE_KEY: "detected"})
    return out, timing


def cell_ramp_windows(
    cell: str,
    protocols: Mapping[str, list[Config]],
    reader: Reader | None = None,
) -> dict[str, list[Config]]:
    """Apply :func:`ramp_windows` to every protocol of one cell.

    For an extraction with ``consensus_timing`` (a folder import's), which finds a
    cell's Ramp windows as it reads the cell, in the same
    :func:`~efex_gui.core.readers.shared_reads` scope (each file read once). A
    protocol's eCode is its entries' ``ecode`` key (the import's override), else its
    name.

    Parameters
    ----------
    cell : str
        The cell's name (for the messages).
    protocols : mapping
        Protocol → its entries (absolute paths); not modified.
    reader : callable, optional
        Replacement for the core's ``read_file``.

    Returns
    -------
    dict
        Protocol → its entries: copies with their window for the Ramp protocols
        that had entries without one, the same lists for the others.
    """
    out = dict(protocols)
    for protocol, configs in protocols.items():
        ecode = next((c["ecode"] for c in configs if c.get("ecode")), None)
        overrides = {protocol: ecode} if ecode else None
        new, timing = ramp_windows(cell, protocol, configs, overrides, reader)
        if timing is not None:
            out[protocol] = new
    return out


def _explain_ramp_errors(
    results: Sequence[LoadedEntry], timing: ProtocolTiming | None
) -> None:
    """Add why no ramp window was found to the sweeps left without one."""
    if timing is None or timing.found or not timing.reason:
        return
    for result in results:
        for index, error in result.trace_errors.items():
            if "should be specified" in error:
                result.trace_errors[index] = f"{error} Ramp finder: {timing.reason}"


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
        consensus was formed: switched off, or no Step sweep with a detected window
        and no Ramp entry without a window).
    """
    from efex_gui.core.readers import shared_reads

    ramp_timing = None
    results = []
    # a Ramp entry's file, read raw for its window, is not read again with it
    with shared_reads() as shared:
        if consensus and jobs:
            cell, protocol = jobs[0][0].cell, jobs[0][0].protocol
            with shared.keeping():
                configs, ramp_timing = ramp_windows(
                    cell, protocol, [c for _, c in jobs], ecode_overrides
                )
            jobs = [(key, c) for (key, _), c in zip(jobs, configs, strict=True)]
        for key, config in jobs:
            if check is not None:
                check()
            results.append(
                load_config(
                    key,
                    config,
                    ecode_overrides,
                    efel_settings,
                    count_spikes=count_spikes,
                )
            )
    timing = ramp_timing
    if consensus and jobs:
        recordings = [r for res in results for r in res.recordings if r is not None]
        cell, protocol = jobs[0][0].cell, jobs[0][0].protocol
        settings = dict(efel_settings) if efel_settings is not None else None
        timing = apply_consensus(cell, recordings, settings).get(protocol, timing)
        _explain_ramp_errors(results, ramp_timing)
    for result in results:
        measure_entry(result)
    return results, timing
