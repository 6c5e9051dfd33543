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

Reading each file once: :func:`cache_key` is equal for two entries whose reader
returns the same traces (it leaves out the keys that reader never reads: the window,
units and ``ljp`` that only interpret an Igor wave, for instance), and
:func:`shared_reads` lets a file read once serve the next read of the same traces
(a Ramp entry read raw for its window, then with it; a file listed under two protocols
of a cell). It is the only such mechanism: the extraction reads each cell in one scope
(``read_and_extract``, ``incremental``), the browser each cell and protocol group.
"""

from __future__ import annotations

from collections import Counter
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

from efex_gui.core.errors import EfexError, ReaderError
from efex_gui.core.readers._common import (
    RAW_ONLY,
    Reader,
    ReaderFileNotFoundError,
    TraceDict,
    check_metadata_types,
    config_path,
)
from efex_gui.core.readers.atf import atf_reader
from efex_gui.core.readers.axon import axon_reader
from efex_gui.core.readers.heka import heka_reader, is_patchmaster
from efex_gui.core.readers.igor import igor_reader
from efex_gui.core.readers.inspection import inspect_file, list_nwb_protocols
from efex_gui.core.readers.lccr import csv_lccr_reader
from efex_gui.core.readers.neo_generic import NEO_FORMATS, UNREADABLE, neo_reader
from efex_gui.core.readers.nwb.reader import nwb_reader, reads_toff
from efex_gui.core.readers.text import text_reader
from efex_gui.core.readers.wcp import wcp_reader

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

__all__ = [
    "BLUEPYEFE_EXTENSIONS",
    "READERS",
    "ReaderFileNotFoundError",
    "SharedReads",
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
    "shared_reads",
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
    shared = _SHARED.get()
    if shared is not None:
        return shared.read(config_data)
    path = config_path(config_data)
    return reader_for(path)(config_data)


class SharedReads:
    """Reads kept for the next read of the same traces, inside :func:`shared_reads`.

    What :func:`read_file` reads is kept under its :func:`cache_key` while
    :meth:`keeping`, or while a later read of the same traces is expected
    (:meth:`expect`); the next :func:`read_file` of an entry with the same key takes
    it instead of reading the file again. A Ramp protocol's entries are read raw to
    find their window, then read with it; SSCx's Step entries are IDrest's files:
    one read each. A miss is read through the enclosing scope, if any.
    """

    def __init__(self, parent: SharedReads | None = None) -> None:
        self._kept: dict[tuple[Any, ...], list[TraceDict]] = {}
        self._keep = False
        self._parent = parent
        #: reads still expected, by key (:meth:`expect`)
        self._expected: Counter[tuple[Any, ...]] = Counter()

    @contextmanager
    def keeping(self) -> Iterator[None]:
        """Keep what is read inside (for one later read of the same traces).

        A raw read (:data:`RAW_ONLY`) is kept only for a reader that returns the
        same traces without it: for the others the read with the window has another
        key and would never take it.
        """
        before, self._keep = self._keep, True
        try:
            yield
        finally:
            self._keep = before

    def expect(self, configs: Iterable[dict[str, Any]]) -> None:
        """Plan these reads: a file read is kept while another read of it is to come.

        What is kept is held until that read (or the scope's end): read the entries
        that share a file close together.
        """
        for config in configs:
            key = cache_key(config)
            if key is not None:
                self._expected[key] += 1

    def read(self, config_data: dict[str, Any]) -> list[TraceDict]:
        """Return the kept traces of this entry (dropped from here), else read them."""
        key = cache_key(config_data)
        if key is None:
            return self._read(config_data)
        later = self._expected.pop(key, 0) - 1
        if later > 0:
            self._expected[key] = later
        kept = self._kept.pop(key, None)
        if kept is None:
            keep = later > 0 or (self._keep and _same_without_raw_only(config_data))
            traces = self._read(config_data)
        else:
            traces, keep = kept, later > 0
        if keep:
            # the caller gets its own dicts (the arrays are shared, never modified)
            self._kept[key] = [trace.copy() for trace in traces]
        return traces

    def _read(self, config_data: dict[str, Any]) -> list[TraceDict]:
        if self._parent is not None:
            return self._parent.read(config_data)
        return reader_for(config_path(config_data))(config_data)


_SHARED: ContextVar[SharedReads | None] = ContextVar("shared_reads", default=None)


@contextmanager
def shared_reads() -> Iterator[SharedReads]:
    """Within, :func:`read_file` shares the reads kept by :meth:`SharedReads.keeping`.

    Per thread (a context variable): a read on another thread is not affected.
    What is kept and never read again is dropped on exit. Nested, the inner scope
    reads its misses through the outer one (its plan, :meth:`SharedReads.expect`).
    """
    shared = SharedReads(_SHARED.get())
    token = _SHARED.set(shared)
    try:
        yield shared
    finally:
        _SHARED.reset(token)


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
#: the metadata that interprets the traces a reader returned: the step window and
#: amplitudes (the eCode), the units, ``dt``, ``ljp`` and ``v_corr`` (the Recording
#: converts and corrects, config values winning over the reader's) and the request
#: for the raw channels (:data:`~efex_gui.core.readers._common.RAW_ONLY`)
_INTERPRETATION = (
    "ton",
    "toff",
    "amp",
    "hypamp",
    "ljp",
    "v_corr",
    "dt",
    "v_unit",
    "i_unit",
    "t_unit",
    RAW_ONLY,
)
#: reader -> the metadata keys it never reads (its traces are the same whatever their
#: values): Igor waves are read from ``v_file``/``i_file`` alone (``t_unit`` must be
#: there: kept); NWB files select sweeps by ``protocol_name``, ``repetition``,
#: ``v_file`` and, in the VU layout only, ``toff``: kept (:func:`cache_key` leaves
#: ``toff`` out for a file of another layout). The other readers synthesise a step
#: from ``ton``/``toff``/``amp``, choose channels or layouts on ``RAW_ONLY``, or copy
#: units or ``ljp`` into their traces (LCCR, text): only the keys no reader reads are
#: left out (``timing_source``, and ``protocol_name`` for the readers of
#: :data:`_PROTOCOL_FREE`).
_UNREAD: dict[Reader, frozenset[str]] = {
    igor_reader: frozenset(_INTERPRETATION) - {"t_unit"},
    nwb_reader: frozenset(_INTERPRETATION) - {"toff"},
}
#: metadata keys no reader reads (where a window came from:
#: ``recordings.timing_consensus.SOURCE_KEY``)
_READ_BY_NONE = ("timing_source",)
_PLAIN = (str, int, float, bool, type(None))


def _frozen(value: object) -> object:
    if isinstance(value, _PLAIN):
        return (type(value).__name__, value)
    if isinstance(value, list | tuple):
        return tuple(_frozen(v) for v in value)
    raise TypeError


def _same_without_raw_only(config_data: dict[str, Any]) -> bool:
    """Whether the entry's reader returns the same traces without :data:`RAW_ONLY`."""
    if not config_data.get(RAW_ONLY):
        return True
    try:
        return RAW_ONLY in _unread_keys(reader_for(config_path(config_data)))
    except EfexError:
        return False


def _unread_keys(reader: Reader) -> frozenset[str]:
    """Return the metadata keys whose values never change what ``reader`` returns."""
    unread = {*_READ_BY_NONE, *_UNREAD.get(reader, ())}
    if reader in _PROTOCOL_FREE:
        unread.add("protocol_name")
    return frozenset(unread)


def cache_key(config_data: dict[str, Any]) -> tuple[Any, ...] | None:
    """Return a key equal for two metadata entries that read the same traces, or None.

    The key holds every metadata value but those the entry's reader never reads
    (:data:`_UNREAD`): ``protocol_name`` for every reader but the NWB and HEKA ones
    (which select sweeps by protocol), so SSCx's ``Step`` entries, which point at
    the ``IDrest`` files, share them; ``timing_source`` for all; the window, units,
    ``dt`` and ``ljp`` for Igor waves and NWB files (and ``toff`` for an NWB file
    but one of the VU layout, which drops the sweeps shorter than ``toff``:
    :func:`~efex_gui.core.readers.nwb.reader.reads_toff`), so a Ramp entry read raw
    to find its window and read again with it shares one read.
    None (do not cache) for a registered reader, an unknown format, a value that is
    not plain data, or metadata of an impossible type (the reader raises on it:
    :func:`~efex_gui.core.readers._common.check_metadata_types`).
    """
    try:
        path = config_path(config_data)
        reader = reader_for(path)
        check_metadata_types(config_data)
        skip = _unread_keys(reader)
        if reader is nwb_reader and "toff" in config_data and not reads_toff(path):
            skip |= {"toff"}
        items = sorted((k, _frozen(v)) for k, v in config_data.items() if k not in skip)
    except (EfexError, TypeError):
        return None
    if reader not in _PROTOCOL_FREE and reader not in (nwb_reader, dat_reader):
        return None
    return (reader.__name__, tuple(items))
