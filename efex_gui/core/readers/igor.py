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
from typing import Any

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


def igor_reader(config_data: dict) -> list[TraceDict]:
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
    trace = {
        "voltage": voltage["data"],
        "v_unit": voltage["unit"],
        "dt": voltage["dt"],
        "current": current["data"],
        "i_unit": current["unit"],
    }
    return validate_traces(v_path, [trace], bool(config_data.get("skip_bad_traces")))
