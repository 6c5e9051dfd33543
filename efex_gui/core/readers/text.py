"""Plain text traces (``.csv``, ``.dat``, and ``.txt`` files that are not LCCR).

One trace per file, in columns: by default 1 column = voltage (``dt`` required),
2 = time + voltage, 3 = time + voltage + current; the metadata key ``columns``
(e.g. ``["t", "v"]``, ``["v", "i"]``, ``["t", "v", "i", "skip"]``) says otherwise.
The delimiter is detected (comma, tab, semicolon or whitespace); leading lines that
are not numbers (a header) are skipped.

Units come from the metadata: ``v_unit`` and ``t_unit`` (the time column's unit and
``dt``'s) are required, ``i_unit`` too when there is a current. Without a current
column the stimulus is synthesised as the LCCR reader does, from ``ton``/``toff``
(ms, like every metadata timing), ``amp`` and ``hypamp`` (default 0) in ``i_unit``.
``dt`` comes from the time column (uniformity checked, trap T24) unless the metadata
gives it. ``ton``/``toff``/``amp``/``hypamp`` are not copied into the trace dict: the
eCodes read them from the metadata (in ms), never as sample indices.
"""

from __future__ import annotations

import os
import re
from typing import Any

import numpy as np

from efex_gui.core.errors import MetadataError, MissingMetadataError, ReaderError
from efex_gui.core.readers._common import (
    TraceDict,
    check_metadata,
    metadata_filepath,
    metadata_step,
    reading,
    require_file,
    validate_traces,
)
from efex_gui.core.readers.raw import RAW_ONLY
from efex_gui.core.units import time_factor_to_ms

_NUMBER_LINE = re.compile(r"^\s*[-+]?(\d|\.\d)")
_DEFAULT_COLUMNS = {1: ["v"], 2: ["t", "v"], 3: ["t", "v", "i"]}
HEKA_MAGIC = (b"DAT1", b"DAT2")


def _delimiter(line: str) -> str | None:
    for candidate in ("\t", ",", ";"):
        if candidate in line:
            return candidate
    return None


def load_table(path: str) -> np.ndarray:
    """Load a numeric text table (rows × columns), skipping a non-numeric header."""
    require_file(path)
    with open(path, "rb") as handle:
        head = handle.read(4096)
    if head[:4] in HEKA_MAGIC:
        raise ReaderError(
            path,
            "this is a HEKA PatchMaster file, not text: give it the .dat extension "
            "to read it as one",
        )
    if b"\x00" in head:
        raise ReaderError(path, "binary content: this is not a text file")
    with reading(path, "a text table"), open(path, encoding="utf-8") as handle:
        lines = handle.read().splitlines()
    start = next((i for i, line in enumerate(lines) if _NUMBER_LINE.match(line)), None)
    if start is None:
        raise ReaderError(path, "no numeric rows found")
    delimiter = _delimiter(lines[start])
    with reading(path, "a text table"):
        table = np.loadtxt(
            lines[start:], delimiter=delimiter, ndmin=2, dtype=np.float64
        )
    return table


_WHY = (
    "v_unit/t_unit/i_unit: the units; columns: which column is what; dt: the "
    "sampling interval when there is no time column; ton/toff (ms) and amp: the "
    "step when there is no current column"
)


def missing_text_metadata(config_data: dict[str, Any], n_columns: int) -> list[str]:
    """Every key a text file still needs, all at once (not one per attempt).

    Parameters
    ----------
    config_data : dict
        The file's metadata.
    n_columns : int
        The number of numeric columns in the file.

    Returns
    -------
    list of str
        In the order a form asks: ``columns``, ``v_unit``, ``t_unit``, ``dt``,
        ``i_unit``, ``ton``, ``toff``, ``amp``.
    """
    given = config_data.get("columns")
    columns = [str(c).lower() for c in (given or _DEFAULT_COLUMNS.get(n_columns, []))]
    missing = [] if columns else ["columns"]
    missing += [k for k in ("v_unit", "t_unit") if not config_data.get(k)]
    if columns and "t" not in columns and config_data.get("dt") is None:
        missing.append("dt")
    needs = ["i_unit"] if "i" in columns else ["i_unit", "ton", "toff", "amp"]
    if columns:
        missing += [k for k in needs if config_data.get(k) in (None, "")]
    return missing


def _columns(config_data: dict[str, Any], n_columns: int, path: str) -> list[str]:
    columns = config_data.get("columns") or _DEFAULT_COLUMNS.get(n_columns)
    if columns is None:
        raise MetadataError(
            f"{path} has {n_columns} columns; say which is which with 'columns' "
            "(e.g. ['t', 'v', 'i', 'skip'])."
        )
    columns = [str(c).lower() for c in columns]
    if len(columns) != n_columns or "v" not in columns:
        raise MetadataError(
            f"columns={columns!r} does not fit the {n_columns} columns of {path} "
            "(one name per column, a 'v' column required)."
        )
    return columns


def _dt(config_data: dict[str, Any], time: np.ndarray | None, path: str) -> float:
    if config_data.get("dt") is not None:
        return float(config_data["dt"])
    if time is None or time.size < 2:
        raise MetadataError(f"{path} has no time column: give 'dt' (in t_unit).")
    steps = np.diff(time)
    dt = (time[-1] - time[0]) / (time.size - 1)
    if dt <= 0 or np.max(np.abs(steps - dt)) > 1e-3 * dt + 1e-6 * abs(time[-1]):
        raise ReaderError(
            path,
            "the time column is not uniformly sampled (or not "
            "increasing); resample it or give 'dt'",
        )
    # a float32 time column carries ~7 digits: 0.2500000114 is 0.25
    rounded = float(f"{dt:.7g}")
    return rounded if abs(rounded - dt) <= 1e-6 * dt else float(dt)


def text_reader(config_data: dict[str, Any]) -> list[TraceDict]:
    """Read a single-trace text file (see the module docstring for the metadata).

    Parameters
    ----------
    config_data : dict
        Metadata with ``filepath``, ``v_unit``, ``t_unit``; ``i_unit`` and the
        stimulus (``ton``, ``toff``, ``amp``, ``hypamp``) when there is no current
        column; optional ``dt`` and ``columns``.

    Returns
    -------
    list of dict
        One trace: ``voltage``, ``current``, ``dt``, ``t_unit``, ``v_unit``,
        ``i_unit``, ``id``, ``current_source``.
    """
    path = metadata_filepath(config_data, "text_reader")
    table = load_table(path)
    missing = missing_text_metadata(config_data, table.shape[1])
    if missing and not config_data.get(RAW_ONLY):
        raise MissingMetadataError(
            path,
            missing,
            f"{os.path.basename(path)} needs {', '.join(missing)} in its metadata "
            f"({_WHY}).",
        )
    check_metadata(config_data, ["v_unit", "t_unit"], "text_reader")
    columns = _columns(config_data, table.shape[1], path)
    column = {name: table[:, k] for k, name in enumerate(columns)}
    dt = _dt(config_data, column.get("t"), path)
    voltage = np.ascontiguousarray(column["v"])
    raw = bool(config_data.get(RAW_ONLY))
    current: np.ndarray | None = None
    if "i" in column:
        if not raw:
            check_metadata(config_data, ["i_unit"], "text_reader")
        current, source = np.ascontiguousarray(column["i"]), "recorded"
    elif raw and any(config_data.get(k) is None for k in ("i_unit", "ton", "amp")):
        source = "none"
    else:
        check_metadata(config_data, ["i_unit", "ton", "toff", "amp"], "text_reader")
        dt_ms = dt * time_factor_to_ms(config_data["t_unit"])
        current = metadata_step(config_data, voltage.size, dt_ms)
        source = "metadata"
    trace: TraceDict = {
        "voltage": voltage,
        "current": current,
        "dt": dt,
        "t_unit": config_data["t_unit"],
        "v_unit": config_data["v_unit"],
        "i_unit": config_data.get("i_unit"),
        "id": os.path.splitext(os.path.basename(path))[0],
        "current_source": source,
    }
    return validate_traces(path, [trace], config_data)
