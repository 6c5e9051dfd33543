"""WinWCP files (``.wcp``), read with neo's ``WinWcpIO`` (formats.md §2.6).

One trace per record; voltage and current channels chosen by unit (``v_channel`` /
``i_channel`` in the metadata override). The protocol is not stored in a .wcp file,
so without a recorded current the step comes from the metadata (``ton``, ``toff`` in
ms, ``amp``, ``hypamp``, ``i_unit``). ``dt`` is exact (sampling rates are not round,
trap T22), in seconds.
"""

from __future__ import annotations

import os
from typing import Any

from neo.io import WinWcpIO

from efex_gui.core.errors import ReaderError
from efex_gui.core.readers._channels import channel_traces
from efex_gui.core.readers._common import (
    TraceDict,
    metadata_filepath,
    reading,
    require_file,
    validate_traces,
)
from efex_gui.core.readers.axon_units import signal_channels


def wcp_reader(config_data: dict[str, Any]) -> list[TraceDict]:
    """Read a WinWCP file: one trace per record.

    Parameters
    ----------
    config_data : dict
        Metadata with ``filepath``; optional ``v_channel``, ``i_channel`` and the
        step metadata for files without a current channel.

    Returns
    -------
    list of dict
        ``voltage``, ``current``, ``dt`` (s), ``t_unit``, ``v_unit``, ``i_unit``,
        ``id``, ``current_source``.
    """
    path = metadata_filepath(config_data, "wcp_reader")
    require_file(path)
    with reading(path, "a WinWCP file"):
        block = WinWcpIO(filename=path).read_block()
    if not block.segments or not block.segments[0].analogsignals:
        raise ReaderError(path, "the WinWCP file holds no records")
    channels = signal_channels(block)
    rate = float(block.segments[0].analogsignals[0].sampling_rate.rescale("Hz"))
    stem = os.path.splitext(os.path.basename(path))[0]
    traces = channel_traces(channels, config_data, path, 1.0 / rate, "s", stem)
    return validate_traces(path, traces, config_data)
