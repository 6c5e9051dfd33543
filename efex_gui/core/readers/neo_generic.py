"""Every other format neo reads (AxoGraph, Spike2, WinEDR, ...), through one path.

The file is read with the neo IO of its extension; each segment is a sweep, its
channels are chosen by unit (voltage in a voltage unit, the current in a current
unit: :mod:`efex_gui.core.readers._channels`), and what cannot be a current-clamp
recording is refused saying what the file is:

* only current channels, or a voltage that is a clamp command: "voltage clamp";
* spike trains or events and no continuous signal: "no continuous signal";
* no channel in a voltage unit (unknown units become dimensionless in neo): the
  channels are listed and ``v_channel`` / ``v_unit`` are the fix.

Continuous files (Spike2, WinEDR: one long segment) read as one trace; without a
current channel the step comes from the metadata, as for WinWCP.
"""

from __future__ import annotations

import os
from typing import Any

from efex_gui.core.errors import NotARecordingError, ReaderError
from efex_gui.core.readers._channels import (
    Channel,
    channel_traces,
    clamp_of_channels,
    unit_kind,
)
from efex_gui.core.readers._common import (
    TraceDict,
    metadata_filepath,
    reading,
    require_file,
    validate_traces,
)
from efex_gui.core.readers.axon_units import signal_channels
from efex_gui.core.readers.clamp import plural

#: extension -> neo IO class name
NEO_FORMATS = {
    ".axgd": "AxographIO",
    ".axgx": "AxographIO",
    ".smr": "Spike2IO",
    ".edr": "WinEdrIO",
    ".nex": "NeuroExplorerIO",
    ".plx": "PlexonIO",
}
#: extensions neo cannot read here, with the reason and the fix
UNREADABLE = {
    ".smrx": "Spike2 .smrx files need CED's sonpy, which only runs on Windows; "
    "save the file as .smr from Spike2 (File > Export As)",
    ".pxp": "Igor packed experiments hold a folder of waves with no fixed layout; "
    "save the sweeps as .ibw waves (or NWB from MIES)",
}


def _io(path: str) -> Any:
    import neo.io

    extension = os.path.splitext(path)[1].lower()
    if extension in UNREADABLE:
        raise ReaderError(path, UNREADABLE[extension])
    name = NEO_FORMATS.get(extension)
    if name is None:
        raise ReaderError(path, f"no neo reader is registered for {extension!r} files")
    return getattr(neo.io, name)(filename=path)


def check_recording(block: Any, channels: list[Channel], path: str) -> None:
    """Refuse a block that holds no current-clamp response, saying what it holds.

    Raises
    ------
    NotARecordingError
        Voltage clamp, or no continuous signal.
    ReaderError
        No channel in a voltage unit.
    """
    n_sweeps = len(block.segments)
    if not channels:
        trains = sum(len(s.spiketrains) for s in block.segments)
        events = sum(len(s.events) for s in block.segments)
        what = [plural(trains, "spike train")] if trains else []
        what += [plural(events, "event channel")] if events else []
        raise NotARecordingError(
            path, "no continuous signal", ", ".join(what) or "an empty file"
        )
    kinds = [unit_kind(c.unit) for c in channels]
    if "voltage" in kinds:
        return
    if "current" in kinds:
        raise NotARecordingError(
            path,
            "voltage clamp",
            f"{plural(n_sweeps, 'sweep')} of membrane current and no voltage channel",
        )
    listed = ", ".join(f"{c.name!r} ({c.unit or 'no unit'})" for c in channels)
    raise ReaderError(
        path,
        f"no channel in a voltage unit ({listed}); set 'v_channel' and 'v_unit' "
        "in the metadata to say which channel is the membrane voltage.",
    )


def traces_from_block(
    block: Any, config_data: dict[str, Any], path: str
) -> list[TraceDict]:
    """One trace per segment of a neo block, channels chosen by unit."""
    channels = signal_channels(block)
    if config_data.get("v_channel") is None:
        check_recording(block, channels, path)
    first = block.segments[0].analogsignals[0]
    dt = 1.0 / float(first.sampling_rate.rescale("Hz"))
    stem = os.path.splitext(os.path.basename(path))[0]
    if config_data.get("v_unit") and config_data.get("v_channel") is not None:
        for channel in channels:
            if channel.name == str(config_data["v_channel"]):
                channel.unit = str(config_data["v_unit"])
    traces = channel_traces(channels, config_data, path, dt, "s", stem)
    if len(block.segments) == 1 and len(traces) == 1:
        traces[0]["stimulus_note"] = (
            "a continuous recording (one segment, no sweeps): no step protocol"
        )
    return traces


def neo_reader(config_data: dict[str, Any]) -> list[TraceDict]:
    """Read a file with the neo IO of its extension (see the module docstring).

    Parameters
    ----------
    config_data : dict
        Metadata with ``filepath``; optional ``v_channel``, ``i_channel``,
        ``v_unit`` and the step metadata for files without a current channel.

    Returns
    -------
    list of dict
        As :func:`~efex_gui.core.readers.wcp.wcp_reader`.
    """
    path = metadata_filepath(config_data, "neo_reader")
    require_file(path)
    io = _io(path)
    with reading(path, f"a {type(io).__name__} file"):
        block = io.read_block()
    traces = traces_from_block(block, config_data, path)
    return validate_traces(path, traces, config_data)


def inspect_neo(path: str) -> dict[str, Any]:
    """Describe a file neo reads for ``efex inspect``: channels, sweeps, clamp."""
    from efex_gui.core.readers.axon_units import signal_channels

    io = _io(path)
    with reading(path, f"a {type(io).__name__} file"):
        block = io.read_block()
    channels = signal_channels(block)
    first = block.segments[0].analogsignals if block.segments else []
    rate = float(first[0].sampling_rate.rescale("Hz")) if first else None
    return {
        "clamp": clamp_of_channels(channels, 1e3 / rate) if rate else None,
        "format": type(io).__name__.removesuffix("IO").lower(),
        "n_sweeps": len(block.segments),
        "protocols": [],
        "channels": [
            {"name": c.name, "unit": c.unit, "kind": unit_kind(c.unit)}
            for c in channels
        ],
        "sampling_rate": rate,
    }
