"""The NWB reader: detect the file's layout, read its traces with that layout's reader.

Layout detection follows BluePyEfe 2.3.63
(:func:`~efex_gui.core.readers.nwb.hdf5.detect_layout`); the layouts live in
:mod:`~efex_gui.core.readers.nwb.layouts` (BBP, AIBS, Scala) and
:mod:`~efex_gui.core.readers.nwb.obi` (TRT, VU).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from efex_gui.core.readers._common import (
    TraceDict,
    check_metadata,
    reading,
    validate_traces,
)
from efex_gui.core.readers.nwb import layouts, obi
from efex_gui.core.readers.nwb.hdf5 import (
    LayoutRequest,
    as_protocols,
    as_repetitions,
    detect_layout,
    open_nwb,
)

if TYPE_CHECKING:
    from collections.abc import Callable

    import h5py

    LayoutReader = Callable[[h5py.File, LayoutRequest], list[TraceDict]]


def _layout_readers() -> dict[str, LayoutReader]:
    return {
        "bbp": layouts.read_bbp,
        "aibs": layouts.read_aibs,
        "scala": layouts.read_scala,
        "trt": obi.read_trt,
        "vu": obi.read_vu,
    }


def nwb_reader(config_data: dict[str, Any]) -> list[TraceDict]:
    """Read the traces of the requested protocols from an NWB file.

    Parameters
    ----------
    config_data : dict
        Metadata with ``filepath`` and ``protocol_name`` (str, list or None = all);
        optional ``repetition`` (int, str or list) and ``v_file`` (BBP filter).

    Returns
    -------
    list of dict
        ``voltage``, ``current`` (float32), ``dt``, ``id``, ``repetition``,
        ``i_unit``, ``v_unit``, ``t_unit``.
    """
    check_metadata(config_data, ["filepath", "protocol_name"], "nwb_reader")
    path = str(config_data["filepath"])
    protocols = as_protocols(config_data["protocol_name"])
    repetitions = as_repetitions(config_data.get("repetition"), path)
    with open_nwb(path) as f, reading(path, "an NWB file"):
        layout = detect_layout(f)
        request = LayoutRequest(protocols, repetitions, config_data, path)
        traces = _layout_readers()[layout](f, request)
    return validate_traces(path, traces, config_data)
