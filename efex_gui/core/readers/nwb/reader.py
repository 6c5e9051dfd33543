"""The NWB reader: detect the file's layout, read its traces with that layout's reader.

Layout detection follows BluePyEfe 2.3.63
(:func:`~efex_gui.core.readers.nwb.hdf5.detect_layout`); the layouts live in
:mod:`~efex_gui.core.readers.nwb.layouts` (BBP, AIBS, Scala) and
:mod:`~efex_gui.core.readers.nwb.obi` (TRT, VU). :func:`reads_toff` says whether a
file's layout reads the metadata's ``toff`` (VU only), for
:func:`~efex_gui.core.readers.cache_key`.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from efex_gui.core.errors import EfexError
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


#: each file version's layout, by (path, size, modification time)
_LAYOUTS: dict[tuple[str, int, int], str] = {}
#: file versions remembered (the memo starts again beyond)
_LAYOUTS_KEPT = 4096


def _version(path: str) -> tuple[str, int, int] | None:
    """Return what identifies this version of the file, or None (no such file)."""
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return path, stat.st_size, stat.st_mtime_ns


def _remember(path: str, layout: str) -> None:
    version = _version(path)
    if version is None:
        return
    if len(_LAYOUTS) >= _LAYOUTS_KEPT:
        _LAYOUTS.clear()
    _LAYOUTS[version] = layout


def reads_toff(path: str) -> bool:
    """Whether the traces read from this file depend on the metadata's ``toff``.

    Only the VU layout reads it (its sweeps shorter than ``toff`` are left out, as
    in BluePyEfe). The layout is the one the reader found when it last read this
    version of the file (path, size, modification time), else a look at the file's
    groups (no trace is read). True when the file cannot be opened: its read fails
    anyway.

    Parameters
    ----------
    path : str
        The NWB file.

    Returns
    -------
    bool
        Whether ``toff`` changes what :func:`nwb_reader` returns for the file.
    """
    version = _version(path)
    if version is None:
        return True
    layout = _LAYOUTS.get(version)
    if layout is None:
        try:
            with open_nwb(path) as f, reading(path, "an NWB file"):
                layout = detect_layout(f)
        except EfexError:
            return True
        _remember(path, layout)
    return layout == "vu"


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
        _remember(path, layout)  # for reads_toff
        request = LayoutRequest(protocols, repetitions, config_data, path)
        traces = _layout_readers()[layout](f, request)
    return validate_traces(path, traces, config_data)
