"""Igor Pro binary waves (``.ibw``, ``.bwav``), read with igor2 (spec §7.2).

One trace = two waves: ``v_file`` (voltage) and ``i_file`` (current). When the
voltage file's unit contains "A" and the current file's contains "V", the two are
swapped (with a warning), as BluePyEfe does. ``dt`` is the wave's x-scaling delta
(``sfA[0]`` for version-5 waves, ``hsA`` otherwise) and units are the wave's data
units with spaces removed. Arrays keep igor2's dtype (big-endian float32 in practice),
so the numbers downstream are BluePyEfe's bit for bit.
"""

from __future__ import annotations

import logging
import os
import struct
from typing import Any, NamedTuple

import numpy as np
from igor2 import binarywave

from efex_gui.core.errors import ReaderError
from efex_gui.core.readers._common import (
    TraceDict,
    check_metadata,
    decode,
    reading,
    require_file,
    validate_traces,
)

logger = logging.getLogger(__name__)

#: Igor binary-wave versions BluePyEfe's wrapper accepts.
SUPPORTED_VERSIONS = (2, 3, 5)


def read_wave(path: str) -> dict[str, Any]:
    """Read one Igor binary wave.

    Parameters
    ----------
    path : str
        The ``.ibw`` / ``.bwav`` file.

    Returns
    -------
    dict
        ``data`` (1-D array as stored), ``unit`` (data unit, spaces removed), ``dt``
        (x-scaling delta), ``x_unit``, ``note`` (the wave note as text), ``name``
        and ``version``.

    Raises
    ------
    ReaderError
        If the file is missing, unreadable, of an unsupported version or not 1-D.
    """
    require_file(path)
    with reading(path, "an Igor binary wave"):
        fast = _read_plain_v5(path)
        if fast is not None:
            return fast
        loaded = binarywave.load(path)
    version = loaded.get("version")
    if version not in SUPPORTED_VERSIONS:
        raise ReaderError(
            path,
            f"Igor binary wave version {version} is not supported "
            f"(supported: {', '.join(map(str, SUPPORTED_VERSIONS))})",
        )
    wave = loaded["wave"]
    header = wave["wave_header"]
    data = wave["wData"]
    if np.ndim(data) != 1:
        raise ReaderError(path, f"the wave is not 1-D (shape {np.shape(data)})")
    if version == 5:
        dt = header["sfA"][0]
        x_unit = _join_units(header["dimUnits"][0])
    else:
        dt = header["hsA"]
        x_unit = _join_units(header.get("xUnits", []))
    unit = decode(wave.get("data_units", b"")) or _join_units(header["dataUnits"])
    return {
        "data": data,
        "unit": unit.replace(" ", ""),
        "dt": dt,
        "x_unit": x_unit.replace(" ", ""),
        "note": decode(wave.get("note", b"")),
        "name": decode(header.get("bname", b"")),
        "version": version,
    }


#: Igor type codes of the plain numeric waves the fast path reads
_NUMERIC_TYPES = {
    2: "f4",
    4: "f8",
    8: "i1",
    0x10: "i2",
    0x20: "i4",
    0x48: "u1",
    0x50: "u2",
    0x60: "u4",
}
_BIN_HEADER5, _WAVE_HEADER5 = 64, 320


class _PlainV5(NamedTuple):
    """Where the parts of a 1-D numeric version-5 wave are, and its header fields."""

    dtype: np.dtype[Any]
    npnts: int
    #: data [start, end), note [note_at, units_at), units [units_at, units_end)
    start: int
    end: int
    note_at: int
    units_at: int
    units_end: int
    header: dict[str, Any]


def _plain_v5(head: bytes, size: int) -> _PlainV5 | None:
    """Read the two headers of a plain numeric version-5 wave (TN003), else None.

    ``head`` holds the file's first bytes (at least both headers), ``size`` is the
    file's length. Other versions, text/complex or multi-dimensional waves and
    truncated files give None (igor2 reads them).
    """
    if len(head) < _BIN_HEADER5 + _WAVE_HEADER5:
        return None
    order = ">" if struct.unpack_from("<h", head)[0] & 0xFF == 0 else "<"
    version, _, wfm_size, formula_size, note_size, units_size = struct.unpack_from(
        order + "hhiiii", head
    )
    wave = _BIN_HEADER5
    npnts, type_code = struct.unpack_from(order + "ih", head, wave + 12)
    dims = struct.unpack_from(order + "4i", head, wave + 68)
    kind = _NUMERIC_TYPES.get(type_code)
    shape = [n for n in dims if n > 0]
    if version != 5 or kind is None or len(shape) != 1 or shape[0] != npnts:
        return None
    dtype = np.dtype(kind).newbyteorder(">" if order == ">" else "<")  # the same
    start, end = wave + _WAVE_HEADER5, _BIN_HEADER5 + wfm_size
    note_at = end + formula_size
    units_at = note_at + note_size
    if end - start != npnts * dtype.itemsize or units_at + units_size > size:
        return None
    header = {
        "unit": _chars(head[wave + 148 : wave + 152]),
        "dt": np.float64(struct.unpack_from(order + "d", head, wave + 84)[0]),
        "x_unit": _chars(head[wave + 152 : wave + 156]).replace(" ", ""),
        "name": decode(head[wave + 28 : wave + 60].split(b"\x00", 1)[0]),
        "version": version,
    }
    units_end = units_at + units_size
    return _PlainV5(dtype, npnts, start, end, note_at, units_at, units_end, header)


def _fields(layout: _PlainV5, note_and_units: bytes) -> dict[str, Any]:
    """Return the fields of :func:`read_wave` but ``data`` (note and units given)."""
    split = layout.units_at - layout.note_at
    unit = decode(note_and_units[split:]) or layout.header["unit"]
    return {
        **layout.header,
        "unit": unit.replace(" ", ""),
        "note": decode(note_and_units[:split]),
    }


def _read_plain_v5(path: str) -> dict[str, Any] | None:
    """:func:`read_wave` for a 1-D numeric version-5 wave, without igor2's parser.

    igor2 unpacks the headers field by field in Python (about 1 ms a wave); this
    reads the few fields used with ``struct`` at TN003's offsets and builds the data
    array exactly as igor2 does (same dtype and byte order, read-only). Anything else
    (other versions, text/complex or multi-dimensional waves, truncated files) gives
    None: igor2 reads it.
    """
    with open(path, "rb") as handle:
        raw = handle.read()
    layout = _plain_v5(raw, len(raw))
    if layout is None:
        return None
    data = np.ndarray(
        shape=(layout.npnts,),
        dtype=layout.dtype,
        buffer=raw[layout.start : layout.end],
        order="F",
    )
    return {"data": data, **_fields(layout, raw[layout.note_at : layout.units_end])}


def wave_header(path: str) -> dict[str, Any]:
    """Return what :func:`read_wave` returns but the data: ``n_samples`` instead.

    A plain numeric version-5 wave is read without its samples (its headers, note
    and units only): a look at a file the extraction will read does not read its
    traces. Any other wave is read whole (:func:`read_wave`).

    Raises
    ------
    ReaderError
        As :func:`read_wave`.
    """
    require_file(path)
    with reading(path, "an Igor binary wave"), open(path, "rb") as handle:
        head = handle.read(_BIN_HEADER5 + _WAVE_HEADER5)
        layout = _plain_v5(head, os.fstat(handle.fileno()).st_size)
        if layout is not None:
            handle.seek(layout.note_at)
            tail = handle.read(layout.units_end - layout.note_at)
            return {"n_samples": layout.npnts, **_fields(layout, tail)}
    wave = read_wave(path)
    return {"n_samples": int(np.size(wave.pop("data"))), **wave}


def _chars(field: bytes) -> str:
    """Decode a fixed char field as igor2 + :func:`_join_units` do (NULs dropped)."""
    return "".join(decode(bytes([c])) for c in field if c)


def _join_units(chars: Any) -> str:
    return "".join(decode(c) for c in np.asarray(chars).reshape(-1))


def wave_note_fields(note: str) -> dict[str, str]:
    """Split a BBP-style wave note (``KEY:value;KEY:value``) into a dict."""
    fields: dict[str, str] = {}
    for part in note.replace("\r", ";").split(";"):
        key, sep, value = part.partition(":")
        if sep and key.strip():
            fields.setdefault(key.strip(), value.strip())
    return fields


def igor_reader(config_data: dict[str, Any]) -> list[TraceDict]:
    """Read one voltage/current pair of Igor waves (BluePyEfe's ``igor_reader``).

    Parameters
    ----------
    config_data : dict
        Metadata with ``v_file``, ``i_file`` and ``t_unit``.

    Returns
    -------
    list of dict
        One trace: ``voltage``, ``v_unit``, ``dt``, ``current``, ``i_unit``.
    """
    check_metadata(config_data, ["v_file", "i_file", "t_unit"], "igor_reader")
    v_path, i_path = str(config_data["v_file"]), str(config_data["i_file"])
    voltage, current = read_wave(v_path), read_wave(i_path)
    if "A" in voltage["unit"] and "V" in current["unit"]:
        logger.warning(
            "It seems that the i_file and v_file are reversed (%s, %s); swapping them.",
            v_path,
            i_path,
        )
        voltage, current = current, voltage
    trace: TraceDict = {
        "voltage": voltage["data"],
        "v_unit": voltage["unit"],
        "dt": voltage["dt"],
        "current": current["data"],
        "i_unit": current["unit"],
    }
    return validate_traces(v_path, [trace], config_data)
