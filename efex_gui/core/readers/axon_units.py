"""ABF channels chosen by unit, the stimulus rebuilt from the protocol (T1-T6, T21).

Where the current comes from, in order (recorded in each trace's ``current_source``):

1. ``"recorded"``: an ADC channel in a current unit (I_Com, Imemb, ...);
2. ``"protocol"``: the command waveform of the first enabled DAC in a current unit,
   rebuilt from the epoch table by pyabf (ABF1 and ABF2,
   :mod:`efex_gui.core.readers.abf_protocol`);
3. ``"metadata"``: a step synthesised from metadata ``ton``/``toff`` (ms), ``amp`` and
   ``hypamp`` (in ``i_unit``);
4. otherwise a ``ReaderError`` saying what to add to the metadata.

With a recorded or rebuilt current, the step's timing and amplitudes come from the
epoch table (the test step: the epoch whose level changes across sweeps) and the
trace says so (``stimulus_source`` "file", ``ton``/``toff`` as sample indices,
``amp``/``hypamp`` in the trace's current unit, ``stimulus_note`` naming the test
step and the other epochs). A voltage-clamp file (its command DAC in a voltage unit)
is refused, and so is a file whose sweep structure neo and the header disagree on
(trap T9).
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
from efex_gui.core.readers._common import TraceDict, metadata_step
from efex_gui.core.readers.abf_protocol import (
    AbfProtocol,
    choose_epoch,
    read_abf_protocol,
)
from efex_gui.core.readers.clamp import refuse_voltage_clamp
from efex_gui.core.readers.raw import RAW_ONLY
from efex_gui.core.units import current_factor_to_na

logger = logging.getLogger(__name__)

_EPISODIC = 5


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


def _flat(channel: Channel) -> bool:
    return all(np.ptp(s) == 0 for s in channel.sweeps)


def _command(protocol: AbfProtocol | None) -> Channel | None:
    if protocol is None or protocol.clamp != "current" or not protocol.commands:
        return None
    name = f"DAC {protocol.dac} (epoch table)"
    channel = Channel(name, protocol.dac_unit, protocol.commands)
    return None if _flat(channel) else channel


def _current(
    protocol: AbfProtocol | None,
    channels: list[Channel],
    voltage: Channel,
    config_data: dict[str, Any],
    path: str,
) -> tuple[Channel | None, str]:
    recorded = pick_channel(channels, "current", config_data, path, exclude=voltage)
    if recorded is not None and recorded is not voltage:
        return recorded, "recorded"
    command = _command(protocol)
    n_points = [len(s) for s in voltage.sweeps]
    if command is not None and [len(s) for s in command.sweeps] == n_points:
        return command, "protocol"
    return None, "metadata"


def _protocol(path: str, n_segments: int) -> AbfProtocol | None:
    """Read the file's protocol (None when pyabf cannot read it); refuse VC and T9."""
    try:
        protocol = read_abf_protocol(path)
    except Exception as exc:  # pyabf raises anything on odd headers
        logger.info("%s: pyabf cannot read the protocol (%s)", path, exc)
        return None
    if protocol.clamp == "voltage":
        refuse_voltage_clamp(path, protocol.n_sweeps, "sweeps")
    if protocol.mode == _EPISODIC and protocol.n_sweeps != n_segments:
        raise ReaderError(
            path,
            f"the readers disagree on the sweep structure: neo reads {n_segments} "
            f"sweep(s), the header's protocol {protocol.n_sweeps}; the file was "
            "probably re-saved by another program. Export it again from Clampfit.",
        )
    return protocol


def file_stimulus(protocol: AbfProtocol | None, sweep: int, i_unit: str) -> TraceDict:
    """Return the trace keys of the step the protocol describes ("file" source).

    ``ton``/``toff`` are sample indices, ``amp``/``hypamp`` in ``i_unit``; without a
    test step only ``stimulus_note`` says why.
    """
    if protocol is None:
        return {"stimulus_note": "the protocol could not be read"}
    test = protocol.test
    if test is None or protocol.clamp != "current" or unit_kind(i_unit) != "current":
        return {"stimulus_note": protocol.note or "no step in the protocol"}
    factor = current_factor_to_na(protocol.dac_unit) / current_factor_to_na(i_unit)
    return {
        "ton": test.start,
        "toff": test.stop,
        "amp": (test.levels[sweep] - protocol.holding) * factor,
        "hypamp": protocol.holding * factor,
        "stimulus_source": "file",
        "stimulus_note": protocol.summary(),
    }


def _metadata_current(
    config_data: dict[str, Any], n: int, dt_ms: float, path: str
) -> np.ndarray:
    needed = ["ton", "toff", "amp", "i_unit"]
    missing = [k for k in needed if config_data.get(k) is None]
    if missing:
        raise ReaderError(
            path,
            "no stimulus current in the file (no current channel, no usable "
            f"protocol); give {missing} in the metadata (ton/toff in ms, amp and "
            "hypamp in i_unit) to synthesise the step.",
        )
    return metadata_step(config_data, n, dt_ms)


def traces_by_units(
    io: Any, block: Any, config_data: dict[str, Any], path: str
) -> list[TraceDict]:
    """Build one trace per sweep, voltage/current chosen by unit (see module doc)."""
    channels = signal_channels(block)
    raw = bool(config_data.get(RAW_ONLY))
    try:
        protocol = _protocol(path, len(block.segments))
        if protocol is not None and config_data.get("abf_epoch"):
            choose_epoch(protocol, str(config_data["abf_epoch"]), path)
    except ReaderError:
        if not raw:
            raise
        protocol = None
    voltage = (
        (pick_channel(channels, "voltage", config_data, path) or channels[0])
        if raw
        else require_voltage(channels, config_data, path)
    )
    current, source = _current(protocol, channels, voltage, config_data, path)
    rate = float(block.segments[0].analogsignals[0].sampling_rate.rescale("Hz"))
    dt = 1.0 / rate
    stem = os.path.splitext(os.path.basename(path))[0]
    traces: list[TraceDict] = []
    for index, v in enumerate(voltage.sweeps):
        if current is not None:
            i, i_unit = current.sweeps[index], current.unit
        elif raw and config_data.get("amp") is None:
            i, i_unit, source = None, None, "none"
        else:
            i = _metadata_current(config_data, len(v), dt * 1e3, path)
            i_unit = config_data["i_unit"]
        trace: TraceDict = {
            "voltage": v,
            "current": i,
            "dt": dt,
            "v_unit": voltage.unit,
            "i_unit": i_unit,
            "t_unit": "s",
            "id": f"{stem}_sweep{index}",
            "current_source": source,
            "clamp": "current",
            "v_channel": voltage.name,
            "i_channel": current.name if current is not None else None,
        }
        if source != "metadata":
            trace.update(file_stimulus(protocol, index, str(i_unit)))
        traces.append(trace)
    return traces
