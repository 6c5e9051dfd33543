"""Axon Binary Format (``.abf``, ABF1 and ABF2), read with neo's ``AxonIO``.

Two paths:

* **BluePyEfe's layout rule** (the default, spec §7.1): the analog signals of each
  segment are stacked; 2 rows → row 0 voltage, row 1 current; else a last dimension
  of 2 → ``[..., 0]`` voltage, ``[..., 1]`` current. ``dt = 1 / int(sampling_rate)``
  (the rate truncated to an integer, §9.1-21). Units are not returned: they must come
  from the metadata. This reproduces BluePyEfe's arrays bit for bit, including its
  mistakes (it takes a second voltage channel as "current" when neo merged two mV
  channels, trap T21).
* **Channels by unit** (:mod:`efex_gui.core.readers.axon_units`), used when the
  metadata asks for it (``"abf_layout": "units"``, or ``v_channel`` / ``i_channel``
  given) or when BluePyEfe's rule fails (one recorded channel, as in most real
  current-clamp files): voltage chosen by unit, current from a recorded current
  channel, else rebuilt from the protocol (ABF2 epoch table via neo, ABF1 epoch table
  from the header), else synthesised from metadata ``ton``/``toff``/``amp``/``hypamp``;
  exact ``dt`` and units returned; the step's timing and amplitudes from the epoch
  table (``stimulus_source`` "file").

Both paths refuse voltage-clamp files (no voltage channel, or a command DAC in a
voltage unit) with :class:`~efex_gui.core.errors.NotARecordingError`: BluePyEfe would
take the membrane current for a voltage (docs/compatibility.md).
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
from neo.io import AxonIO

from efex_gui.core.errors import MetadataError, ReaderError
from efex_gui.core.readers._common import (
    TraceDict,
    metadata_filepath,
    reading,
    require_file,
    validate_traces,
)
from efex_gui.core.readers.raw import RAW_ONLY

logger = logging.getLogger(__name__)

#: values of the ``abf_layout`` metadata key
LAYOUTS = ("bluepyefe", "units")


def open_abf(path: str) -> tuple[AxonIO, Any]:
    """Open an ABF file with neo and read its block (all segments, in memory).

    Raises
    ------
    ReaderError
        If the file is missing, not an ABF file, or truncated.
    """
    require_file(path)
    with open(path, "rb") as handle:
        magic = handle.read(4)
    if magic not in (b"ABF ", b"ABF2"):
        raise ReaderError(path, f"not an Axon ABF file (starts with {magic!r})")
    with reading(path, "an Axon ABF file"):
        io = AxonIO(filename=path)
        block = io.read_block(lazy=False)
    if not block.segments:
        raise ReaderError(path, "the ABF file holds no sweeps")
    return io, block


def bluepyefe_layout(block: Any) -> list[TraceDict] | None:
    """Apply BluePyEfe's stacking rule; return None when it does not fit the file."""
    traces: list[TraceDict] = []
    for segment in block.segments:
        try:
            stacked = np.array(segment.analogsignals)
        except ValueError:  # signals of different lengths cannot be stacked
            return None
        if stacked.ndim == 3 and stacked.shape[0] == 2:
            voltage, current = stacked[0], stacked[1]
        elif stacked.ndim >= 1 and stacked.shape[-1] == 2:
            voltage, current = stacked[..., 0], stacked[..., 1]
        else:
            return None
        rate = segment.analogsignals[0].sampling_rate
        traces.append(
            {
                "voltage": voltage.flatten(),
                "current": current.flatten(),
                "dt": 1.0 / int(rate),
            }
        )
    return traces


def _refuse_voltage_clamp(block: Any, path: str) -> None:
    """Refuse a voltage-clamp file before BluePyEfe's rule takes a current for Vm."""
    from efex_gui.core.readers._channels import unit_kind
    from efex_gui.core.readers.axon_units import _protocol, signal_channels
    from efex_gui.core.readers.clamp import refuse_voltage_clamp

    kinds = {unit_kind(c.unit) for c in signal_channels(block)}
    if "current" in kinds and "voltage" not in kinds:
        refuse_voltage_clamp(path, len(block.segments), "sweeps")
    _protocol(path, len(block.segments))


def _layout(config_data: dict[str, Any]) -> str:
    layout: str = config_data.get("abf_layout", "bluepyefe")
    if layout not in LAYOUTS:
        raise MetadataError(
            f"abf_layout={layout!r} is not one of {LAYOUTS} "
            f"(file {config_data.get('filepath')})."
        )
    if (
        config_data.get("v_channel") is not None
        or config_data.get("i_channel") is not None
    ):
        return "units"
    return layout


def axon_reader(config_data: dict[str, Any]) -> list[TraceDict]:
    """Read an ABF file: one trace per sweep (BluePyEfe's ``axon_reader``).

    Parameters
    ----------
    config_data : dict
        Metadata with ``filepath``; optional ``abf_layout`` ("bluepyefe" or
        "units"), ``v_channel``, ``i_channel`` and, for files without any stimulus,
        ``ton``, ``toff`` (ms), ``amp``, ``hypamp`` and ``i_unit``.

    Returns
    -------
    list of dict
        ``voltage``, ``current``, ``dt`` (BluePyEfe layout), plus ``v_unit``,
        ``i_unit``, ``t_unit``, ``id`` and ``current_source`` (units layout).
    """
    path = metadata_filepath(config_data, "axon_reader")
    io, block = open_abf(path)
    layout = _layout(config_data)
    if config_data.get(RAW_ONLY):
        layout = "units"
    if layout == "bluepyefe":
        _refuse_voltage_clamp(block, path)
    traces = bluepyefe_layout(block) if layout == "bluepyefe" else None
    if traces is None:
        from efex_gui.core.readers.axon_units import traces_by_units

        if layout == "bluepyefe":
            logger.info(
                "%s: BluePyEfe's two-signal layout does not fit; choosing channels by "
                "unit.",
                path,
            )
        traces = traces_by_units(io, block, config_data, path)
    return validate_traces(path, traces, config_data)
