"""File readers: files_metadata entries in, BluePyEfe trace dicts out.

``read_file(config_data)`` picks the reader from the path (``filepath``, else
``v_file``): the extension at the **end** of the path wins, case-insensitively, so
``X.abf.csv`` is a CSV file; only when no known extension ends the path is the first
of ``.abf``, ``.ibw``/``.bwav``, ``.nwb``, ``.txt`` found as a substring used, as
BluePyEfe's ``Cell.reader`` does (spec §3.1; docs/compatibility.md). ``.dat`` files are
HEKA PatchMaster bundles when their first bytes say so, else text; AxoGraph, Spike2,
WinEDR and the other formats of ``NEO_FORMATS`` go through one generic neo path.

``.txt`` goes to the LCCR reader (BluePyEfe's choice) when the metadata has
``amplitudes``; otherwise to the plain-text reader (two/three columns, ``text.py``).

New readers plug in with :func:`register_reader`. Every reader takes the metadata
dict and returns a list of trace dicts with BluePyEfe's keys (``voltage``,
``current``, ``dt``, ``t_unit``, ``i_unit``, ``v_unit`` and optionally ``amp``,
``hypamp``, ``ton``, ``toff``, ``id``, ``repetition``); readers that choose channels or
rebuild stimuli add ``current_source`` ("recorded", "protocol" or "metadata").

Errors: ``ReaderError(path, reason)`` for unreadable files and unusable traces
(NaN/inf, empty, length mismatch, ``dt <= 0``); ``ReaderFileNotFoundError`` (also a
``FileNotFoundError``) for missing files; ``MetadataError`` (also a ``KeyError``) for
missing metadata keys.
"""

from __future__ import annotations

from typing import Any

from efex_gui.core.errors import EfexError, ReaderError
from efex_gui.core.readers._common import (
    Reader,
    ReaderFileNotFoundError,
    TraceDict,
    config_path,
)
from efex_gui.core.readers.atf import atf_reader
from efex_gui.core.readers.axon import axon_reader
from efex_gui.core.readers.heka import heka_reader, is_patchmaster
from efex_gui.core.readers.igor import igor_reader
from efex_gui.core.readers.inspection import inspect_file, list_nwb_protocols
from efex_gui.core.readers.lccr import csv_lccr_reader
from efex_gui.core.readers.neo_generic import NEO_FORMATS, UNREADABLE, neo_reader
from efex_gui.core.readers.nwb.reader import nwb_reader
from efex_gui.core.readers.text import text_reader
from efex_gui.core.readers.wcp import wcp_reader

__all__ = [
    "BLUEPYEFE_EXTENSIONS",
    "READERS",
    "ReaderFileNotFoundError",
    "atf_reader",
    "axon_reader",
    "cache_key",
    "csv_lccr_reader",
    "dat_reader",
    "heka_reader",
    "igor_reader",
    "inspect_file",
    "list_nwb_protocols",
    "neo_reader",
    "nwb_reader",
    "read_file",
    "reader_for",
    "register_reader",
    "text_reader",
    "txt_reader",
    "wcp_reader",
]


def txt_reader(config_data: dict[str, Any]) -> list[TraceDict]:
    """Read a ``.txt`` file: LCCR when ``amplitudes`` is in the metadata, else text."""
    if "amplitudes" in config_data:
        return csv_lccr_reader(config_data)
    return text_reader(config_data)


def dat_reader(config_data: dict[str, Any]) -> list[TraceDict]:
    """Read a ``.dat`` file: a HEKA PatchMaster bundle by its first bytes, else text."""
    if is_patchmaster(config_path(config_data)):
        return heka_reader(config_data)
    return text_reader(config_data)


#: extension -> reader, in dispatch order (BluePyEfe's four first)
READERS: dict[str, Reader] = {
    ".abf": axon_reader,
    ".ibw": igor_reader,
    ".bwav": igor_reader,
    ".nwb": nwb_reader,
    ".txt": txt_reader,
    ".csv": text_reader,
    ".dat": dat_reader,
    ".atf": atf_reader,
    ".wcp": wcp_reader,
    **dict.fromkeys([*NEO_FORMATS, *UNREADABLE], neo_reader),
}
#: extensions BluePyEfe matches as substrings of the path
BLUEPYEFE_EXTENSIONS = (".abf", ".ibw", ".bwav", ".nwb", ".txt")


def register_reader(extension: str, reader: Reader) -> None:
    """Add (or replace) the reader of files ending with ``extension`` (``".h5"``)."""
    if not extension.startswith("."):
        extension = "." + extension
    READERS[extension.lower()] = reader


def reader_for(path: str) -> Reader:
    """Return the reader for a path (see the module docstring for the rule).

    Raises
    ------
    ReaderError
        If no reader matches.
    """
    lowered = path.lower()
    for extension, reader in READERS.items():
        if lowered.endswith(extension):
            return reader
    for extension in BLUEPYEFE_EXTENSIONS:
        if extension in path:
            return READERS[extension]
    raise ReaderError(
        path,
        f"unknown format: the ephys file extension is not one of {', '.join(READERS)}",
    )


def read_file(config_data: dict[str, Any]) -> list[TraceDict]:
    """Read the traces a files_metadata entry points at.

    Parameters
    ----------
    config_data : dict
        One files_metadata entry (``filepath`` or ``v_file``, units, ...).

    Returns
    -------
    list of dict
        The trace dicts, one per sweep.

    Raises
    ------
    MetadataError
        If neither ``filepath`` nor ``v_file`` is given, or a required key is missing.
    ReaderError
        If the format is unknown or the file cannot be read.
    """
    path = config_path(config_data)
    return reader_for(path)(config_data)


#: readers whose traces do not depend on the metadata's ``protocol_name``
_PROTOCOL_FREE = (
    axon_reader,
    igor_reader,
    txt_reader,
    text_reader,
    atf_reader,
    wcp_reader,
    csv_lccr_reader,
    neo_reader,
)
_PLAIN = (str, int, float, bool, type(None))


def _frozen(value: object) -> object:
    if isinstance(value, _PLAIN):
        return (type(value).__name__, value)
    if isinstance(value, list | tuple):
        return tuple(_frozen(v) for v in value)
    raise TypeError


def cache_key(config_data: dict[str, Any]) -> tuple[Any, ...] | None:
    """Return a key equal for two metadata entries that read the same traces, or None.

    Two entries that differ only by ``protocol_name`` read the same traces with every
    reader but the NWB one (which selects sweeps by protocol), so SSCx's ``Step``
    entries, which point at the ``IDrest`` files, share them. None (do not cache)
    for a registered reader, an unknown format or a value that is not plain data.
    """
    try:
        reader = reader_for(config_path(config_data))
        skip = ("protocol_name",) if reader in _PROTOCOL_FREE else ()
        items = sorted((k, _frozen(v)) for k, v in config_data.items() if k not in skip)
    except (EfexError, TypeError):
        return None
    if reader not in _PROTOCOL_FREE and reader not in (nwb_reader, dat_reader):
        return None
    return (reader.__name__, tuple(items))
