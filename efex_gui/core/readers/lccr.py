"""The LCCR tab-separated text format (``.txt``; BluePyEfe's ``csv_lccr_reader``, §7.4).

One column per sweep, no time column; ``"-"`` or empty cells read as 0. The stimulus
is not in the file: the current is synthesised from the metadata (``hypamp``
everywhere, ``hypamp + amplitude`` on ``[int(ton/dt), int(toff/dt))``), and sweeps
are paired with ``amplitudes`` by position (extra columns or amplitudes are dropped).

A missing file raises :class:`~efex_gui.core.readers._common.ReaderFileNotFoundError`,
which is a ``FileNotFoundError`` as BluePyEfe's test expects.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from efex_gui.core.errors import MetadataError, ReaderError
from efex_gui.core.readers._common import (
    TraceDict,
    check_metadata,
    reading,
    require_file,
    step_current,
    validate_traces,
)

REQUIRED = [
    "filepath",
    "dt",
    "amplitudes",
    "v_unit",
    "t_unit",
    "i_unit",
    "ton",
    "toff",
    "hypamp",
]


def _cell(text: str) -> float:
    text = text.strip()
    return 0.0 if text in ("", "-") else float(text)


def read_columns(path: str, delimiter: str | None = "\t") -> np.ndarray:
    """Read a text file of numeric columns into a (n_rows, n_columns) float64 array.

    ``"-"`` and empty cells become 0; short rows are padded with 0.

    Raises
    ------
    ReaderError
        If the file is missing, not text, or holds a non-numeric cell.
    """
    require_file(path)
    with reading(path, "a text file of numeric columns"), open(path, "rb") as handle:
        raw = handle.read()
    if b"\x00" in raw[:4096]:
        raise ReaderError(path, "binary content: this is not a text file")
    rows: list[list[float]] = []
    with reading(path, "a text file of numeric columns"):
        for number, line in enumerate(raw.decode("utf-8").splitlines(), start=1):
            if not line.strip():
                continue
            try:
                rows.append([_cell(c) for c in line.split(delimiter)])
            except ValueError as exc:
                raise ReaderError(path, f"line {number}: {exc}") from exc
    if not rows:
        raise ReaderError(path, "no data rows")
    width = max(len(r) for r in rows)
    table = np.zeros((len(rows), width), dtype=np.float64)
    for i, row in enumerate(rows):
        table[i, : len(row)] = row
    return table


def csv_lccr_reader(config_data: dict[str, Any]) -> list[TraceDict]:
    """Read an LCCR text file: one trace per (column, amplitude) pair.

    Parameters
    ----------
    config_data : dict
        Metadata with ``filepath``, ``dt``, ``amplitudes``, ``v_unit``, ``t_unit``,
        ``i_unit``, ``ton``, ``toff``, ``hypamp``; optional ``ljp`` (default 0) and
        ``remove_last_100ms``.

    Returns
    -------
    list of dict
        Keys ``filename``, ``current``, ``voltage``, ``t``, ``dt``, ``ton``, ``toff``,
        ``amp``, ``hypamp``, ``ljp``, ``i_unit``, ``v_unit``, ``t_unit``.
    """
    check_metadata(config_data, REQUIRED, "csv_lccr_reader")
    path = str(config_data["filepath"])
    amplitudes = list(config_data["amplitudes"] or [])
    table = read_columns(path)
    dt = _positive(config_data, "dt", path)
    if config_data.get("remove_last_100ms"):
        table = table[: len(table) - int(100 / dt)]
    ton, toff = np.float64(config_data["ton"]), np.float64(config_data["toff"])
    hypamp = np.float64(config_data["hypamp"])
    n = table.shape[0]
    t = np.arange(n) * dt
    traces: list[TraceDict] = []
    for column, amplitude in zip(table.T, amplitudes, strict=False):
        traces.append(
            {
                "filename": os.path.basename(path),
                "current": step_current(
                    n, dt, ton, toff, np.float64(amplitude), hypamp
                ),
                "voltage": np.ascontiguousarray(column),
                "t": t,
                "dt": dt,
                "ton": ton,
                "toff": toff,
                "amp": np.float64(amplitude),
                "hypamp": hypamp,
                "ljp": config_data.get("ljp", 0),
                "i_unit": config_data["i_unit"],
                "v_unit": config_data["v_unit"],
                "t_unit": config_data["t_unit"],
            }
        )
    return validate_traces(path, traces, config_data)


def _positive(config_data: dict[str, Any], key: str, path: str) -> np.float64:
    try:
        value = np.float64(config_data[key])
    except (TypeError, ValueError) as exc:
        raise MetadataError(
            f"{key}={config_data[key]!r} is not a number (file {path})."
        ) from exc
    if not value > 0:
        raise MetadataError(f"{key} must be > 0, got {value!r} (file {path}).")
    return value
