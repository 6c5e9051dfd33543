"""Pick the voltage and current channels of a sweep by unit (traps T1/T2/T21).

Channel names and positions lie (an "_Ipatch" channel holding mV, the voltage on
channel 1); units are the most reliable hint. The metadata may name the channels
explicitly with ``v_channel`` / ``i_channel`` (a channel name or a 0-based index);
an explicit choice wins over units, because units lie too.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from efex_gui.core.errors import MetadataError, ReaderError
from efex_gui.core.units import is_known_unit

if TYPE_CHECKING:
    from efex_gui.core.readers._common import TraceDict

logger = logging.getLogger(__name__)


@dataclass
class Channel:
    """One recorded channel of a file: its name, unit and one array per sweep."""

    name: str
    unit: str
    sweeps: list[np.ndarray]


def unit_kind(unit: str) -> str | None:
    """Return 'voltage', 'current' or None for a unit string (µ is read as u)."""
    clean = unit.strip().replace("µ", "u").replace("μ", "u")
    for kind in ("voltage", "current"):
        if is_known_unit(clean, kind):
            return kind
    return None


def clean_unit(unit: str) -> str:
    """Return a unit string our unit tables accept (spaces removed, µ → u)."""
    return unit.strip().replace(" ", "").replace("µ", "u").replace("μ", "u")


def _explicit(channels: list[Channel], key: str, wanted: Any, path: str) -> Channel:
    if isinstance(wanted, int) and not isinstance(wanted, bool):
        if 0 <= wanted < len(channels):
            return channels[wanted]
    else:
        for channel in channels:
            if channel.name.strip() == str(wanted).strip():
                return channel
    names = [c.name for c in channels]
    raise MetadataError(
        f"{key}={wanted!r} matches no channel of {path} (channels: {names})."
    )


def pick_channel(
    channels: list[Channel],
    kind: str,
    config_data: dict[str, Any],
    path: str,
    exclude: Channel | None = None,
) -> Channel | None:
    """Choose the channel of ``kind`` ('voltage' or 'current').

    Parameters
    ----------
    channels : list of Channel
        The file's channels.
    kind : str
        'voltage' or 'current'.
    config_data : dict
        Metadata; ``v_channel`` / ``i_channel`` select a channel explicitly.
    path : str
        The file (for messages).
    exclude : Channel, optional
        A channel already taken (never returned).

    Returns
    -------
    Channel or None
        The channel, or None when no channel has a unit of that kind.
    """
    key = "v_channel" if kind == "voltage" else "i_channel"
    if config_data.get(key) is not None:
        return _explicit(channels, key, config_data[key], path)
    matches = [c for c in channels if unit_kind(c.unit) == kind and c is not exclude]
    if len(matches) > 1:
        logger.warning(
            "%s: %d %s channels (%s); using %r. Set '%s' in the metadata to choose.",
            path,
            len(matches),
            kind,
            [c.name for c in matches],
            matches[0].name,
            key,
        )
    return matches[0] if matches else None


def require_voltage(
    channels: list[Channel], config_data: dict[str, Any], path: str
) -> Channel:
    """Return the voltage channel or raise a ``ReaderError`` that lists the channels.

    Only current channels (a voltage-clamp run, trap T11) raise
    :class:`~efex_gui.core.errors.NotARecordingError` ("voltage clamp: 3 sweeps of
    membrane current").
    """
    channel = pick_channel(channels, "voltage", config_data, path)
    if channel is None and any(unit_kind(c.unit) == "current" for c in channels):
        from efex_gui.core.readers.clamp import refuse_voltage_clamp

        refuse_voltage_clamp(path, len(channels[0].sweeps), "sweeps")
    if channel is None:
        found = ", ".join(f"{c.name!r} ({c.unit})" for c in channels) or "none"
        raise ReaderError(
            path,
            f"no voltage channel found (channels: {found}); this may be a "
            "voltage-clamp recording. Set 'v_channel' (and 'v_unit') in the metadata "
            "to force one.",
        )
    return channel


def _choose_voltage(
    channels: list[Channel], config_data: dict[str, Any], path: str, dt_ms: float
) -> Channel:
    """Choose the voltage channel; refuse voltage clamp unless raw is asked."""
    from efex_gui.core.readers._common import RAW_ONLY
    from efex_gui.core.readers.clamp import refuse_voltage_clamp, voltage_is_clamped
    from efex_gui.core.units import to_mv

    if config_data.get(RAW_ONLY):
        return pick_channel(channels, "voltage", config_data, path) or channels[0]
    voltage = require_voltage(channels, config_data, path)
    if config_data.get("v_channel") is None and voltage_is_clamped(
        [to_mv(v, voltage.unit) for v in voltage.sweeps], dt_ms
    ):
        refuse_voltage_clamp(path, len(voltage.sweeps))
    return voltage


def _metadata_step(config_data: dict[str, Any], n: int, dt_ms: float) -> np.ndarray:
    from efex_gui.core.readers._common import metadata_step

    return metadata_step(config_data, n, dt_ms)


def _check_step_metadata(config_data: dict[str, Any], path: str) -> bool:
    """Whether the step can come from the metadata; raises when it must and cannot."""
    from efex_gui.core.readers._common import RAW_ONLY

    missing = [
        k for k in ("ton", "toff", "amp", "i_unit") if config_data.get(k) is None
    ]
    if missing and not config_data.get(RAW_ONLY):
        raise ReaderError(
            path,
            f"no current channel; give {missing} in the metadata (ton/toff "
            "in ms, amp and hypamp in i_unit) to synthesise the step.",
        )
    return not missing


def channel_traces(
    channels: list[Channel],
    config_data: dict[str, Any],
    path: str,
    dt: float,
    t_unit: str,
    stem: str,
) -> list[TraceDict]:
    """One trace per sweep from recorded channels: voltage and current chosen by unit.

    Without a current channel the step is synthesised from the metadata ``ton`` /
    ``toff`` (ms), ``amp``, ``hypamp`` and ``i_unit``; without those, ``ReaderError``
    (with :data:`~efex_gui.core.readers.raw.RAW_ONLY`: no current).
    """
    from efex_gui.core.units import time_factor_to_ms

    dt_ms = dt * time_factor_to_ms(t_unit)
    voltage = _choose_voltage(channels, config_data, path, dt_ms)
    current = pick_channel(channels, "current", config_data, path, exclude=voltage)
    if current is voltage:
        current = None
    synthesise = current is None and _check_step_metadata(config_data, path)
    traces: list[TraceDict] = []
    for index, v in enumerate(voltage.sweeps):
        i, i_unit, source = None, None, "none"
        if current is not None:
            i, i_unit, source = current.sweeps[index], current.unit, "recorded"
        elif synthesise:
            i = _metadata_step(config_data, len(v), dt_ms)
            i_unit, source = config_data["i_unit"], "metadata"
        traces.append(
            {
                "voltage": v,
                "current": i,
                "dt": dt,
                "t_unit": t_unit,
                "v_unit": voltage.unit,
                "i_unit": i_unit,
                "id": f"{stem}_sweep{index}",
                "current_source": source,
                "clamp": "current",
                "v_channel": voltage.name,
                "i_channel": current.name if current is not None else None,
            }
        )
    return traces


def clamp_of_channels(channels: list[Channel], dt_ms: float) -> str | None:
    """'voltage', 'current' or None (unknown) from a file's channels (see module doc).

    Parameters
    ----------
    channels : sequence of Channel
        The file's channels (``unit`` and ``sweeps``).
    dt_ms : float
        The sampling interval (ms).
    """
    from efex_gui.core.readers.clamp import voltage_is_clamped
    from efex_gui.core.units import to_mv

    kinds = [unit_kind(c.unit) for c in channels]
    if "voltage" not in kinds:
        return "voltage" if "current" in kinds else None
    voltage = channels[kinds.index("voltage")]
    sweeps = [to_mv(np.asarray(s), voltage.unit) for s in voltage.sweeps]
    return "voltage" if voltage_is_clamped(sweeps, dt_ms) else "current"
