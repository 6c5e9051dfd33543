"""ABF channels chosen by unit, the stimulus rebuilt from the protocol (T1-T6, T21).

Where the current comes from, in order (recorded in each trace's ``current_source``):

1. ``"recorded"``: an ADC channel in a current unit (I_Com, Imemb, ...);
2. ``"protocol"``: the command waveform of the first enabled DAC in a current unit,
   rebuilt from the epoch table (ABF2 through neo's ``read_protocol``, which adds the
   1/64 pre-sweep holding period; ABF1 from the header's epoch table, step epochs only,
   holding assumed 0 and the DAC unit taken from the metadata's ``i_unit``, which ABF1
   headers do not give neo);
3. ``"metadata"``: a step synthesised from metadata ``ton``/``toff`` (ms), ``amp`` and
   ``hypamp`` (in ``i_unit``);
4. otherwise a ``ReaderError`` saying what to add to the metadata.
"""

from __future__ import annotations

import logging
import os
from typing import Any

import numpy as np

from efex_gui.core.errors import ReaderError
from efex_gui.core.readers._channels import (
    Channel,
    clean_unit,
    pick_channel,
    require_voltage,
    unit_kind,
)
from efex_gui.core.readers._common import TraceDict, step_current

logger = logging.getLogger(__name__)

#: ABF1 epoch type for a step
_ABF1_STEP = 1
_ABF1_EPOCHS_PER_DAC = 10


def signal_channels(block: Any) -> list[Channel]:
    """Split every segment's analog signals into named channels (one per column)."""
    channels: dict[tuple[int, int], Channel] = {}
    for segment in block.segments:
        for s_index, signal in enumerate(segment.analogsignals):
            names = signal.array_annotations.get("channel_names")
            unit = clean_unit(signal.units.dimensionality.string)
            data = np.asarray(signal)
            for column in range(data.shape[1]):
                name = (
                    str(names[column]) if names is not None else f"{s_index}:{column}"
                )
                key = (s_index, column)
                if key not in channels:
                    channels[key] = Channel(name.strip(), unit, [])
                channels[key].sweeps.append(np.ascontiguousarray(data[:, column]))
    return list(channels.values())


def _abf2_commands(io: Any) -> list[Channel]:
    try:
        protocol = io.read_protocol()
    except Exception:  # neo raises on ABF1 and on gap-free files
        return []
    dac_info = io._axon_info.get("listDACInfo", [])
    commands: list[Channel] = []
    for d_index in range(len(protocol[0].analogsignals) if protocol else 0):
        enabled = d_index < len(dac_info) and dac_info[d_index].get("nWaveformEnable")
        signal = protocol[0].analogsignals[d_index]
        unit = clean_unit(signal.units.dimensionality.string)
        if not enabled or unit_kind(unit) != "current":
            continue
        sweeps = [np.asarray(seg.analogsignals[d_index]).ravel() for seg in protocol]
        commands.append(Channel(str(signal.name).strip(), unit, sweeps))
    return commands


def _abf1_commands(io: Any, n_points: list[int], i_unit: Any) -> list[Channel]:
    header = io._axon_info
    if header.get("fFileVersionNumber", 2) >= 2 or header.get("nOperationMode") != 5:
        return []
    if i_unit is None or unit_kind(str(i_unit)) != "current":
        return []
    dac = int(header.get("nActiveDACChannel", 0))
    first = dac * _ABF1_EPOCHS_PER_DAC
    epochs = range(first, first + _ABF1_EPOCHS_PER_DAC)
    n_channels = max(int(header["nADCNumChannels"]), 1)
    offset = int(header["lNumSamplesPerEpisode"] // n_channels // 64)
    sweeps = []
    for sweep, n in enumerate(n_points):
        command = np.zeros(n, dtype=np.float64)
        position = offset
        for e in epochs:
            if header["nEpochType"][e] == 0:
                continue
            length = int(
                header["lEpochInitDuration"][e] + sweep * header["lEpochDurationInc"][e]
            )
            if header["nEpochType"][e] == _ABF1_STEP:
                level = (
                    header["fEpochInitLevel"][e] + sweep * header["fEpochLevelInc"][e]
                )
                command[position : position + length] = level
            position += length
        sweeps.append(command)
    if not any(np.ptp(s) > 0 for s in sweeps):
        return []
    return [Channel(f"DAC {dac} (epoch table)", str(i_unit), sweeps)]


def _flat(channel: Channel) -> bool:
    return all(np.ptp(s) == 0 for s in channel.sweeps)


def _current(
    io: Any, channels: list[Channel], voltage: Channel, config_data: dict, path: str
) -> tuple[Channel | None, str]:
    recorded = pick_channel(channels, "current", config_data, path, exclude=voltage)
    if recorded is not None and recorded is not voltage:
        return recorded, "recorded"
    n_points = [len(s) for s in voltage.sweeps]
    commands = _abf2_commands(io) or _abf1_commands(
        io, n_points, config_data.get("i_unit")
    )
    commands = [c for c in commands if [len(s) for s in c.sweeps] == n_points]
    live = [c for c in commands if not _flat(c)]
    if live:
        return live[0], "protocol"
    return None, "metadata"


def _metadata_current(config_data: dict, n: int, dt_ms: float, path: str) -> np.ndarray:
    needed = ["ton", "toff", "amp", "i_unit"]
    missing = [k for k in needed if config_data.get(k) is None]
    if missing:
        raise ReaderError(
            path,
            "no stimulus current in the file (no current channel, no usable "
            f"protocol); give {missing} in the metadata (ton/toff in ms, amp and "
            "hypamp in i_unit) to synthesise the step.",
        )
    return step_current(
        n,
        dt_ms,
        float(config_data["ton"]),
        float(config_data["toff"]),
        float(config_data["amp"]),
        float(config_data.get("hypamp") or 0.0),
    )


def traces_by_units(
    io: Any, block: Any, config_data: dict, path: str
) -> list[TraceDict]:
    """Build one trace per sweep, voltage/current chosen by unit (see module doc)."""
    channels = signal_channels(block)
    voltage = require_voltage(channels, config_data, path)
    current, source = _current(io, channels, voltage, config_data, path)
    rate = float(block.segments[0].analogsignals[0].sampling_rate.rescale("Hz"))
    dt = 1.0 / rate
    stem = os.path.splitext(os.path.basename(path))[0]
    traces = []
    for index, v in enumerate(voltage.sweeps):
        if current is not None:
            i, i_unit = current.sweeps[index], current.unit
        else:
            i = _metadata_current(config_data, len(v), dt * 1e3, path)
            i_unit = config_data["i_unit"]
        traces.append(
            {
                "voltage": v,
                "current": i,
                "dt": dt,
                "v_unit": voltage.unit,
                "i_unit": i_unit,
                "t_unit": "s",
                "id": f"{stem}_sweep{index}",
                "current_source": source,
                "v_channel": voltage.name,
                "i_channel": current.name if current is not None else None,
            }
        )
    return traces
