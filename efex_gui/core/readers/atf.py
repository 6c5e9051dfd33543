"""Axon Text Files (``.atf``, Clampfit exports; formats.md §2.9).

Layout: ``ATF <version>``, then ``<n header lines> <n columns>``, the quoted
``key=value`` header lines, a line of column titles such as ``"Time (s)"``,
``"Trace #1 (pA)"``, ``"Trace #1 (mV)"``, then tab-separated data. Units are only in
the titles. Columns are grouped into sweeps by ``Trace #n`` and into channels by their
position within the sweep (named from the ``Signals=`` header line when present);
voltage and current are then chosen by unit as for ABF files.
"""

from __future__ import annotations

import os
import re
from typing import Any

import numpy as np

from efex_gui.core.errors import ReaderError
from efex_gui.core.readers._channels import Channel, channel_traces, clean_unit
from efex_gui.core.readers._common import (
    TraceDict,
    metadata_filepath,
    reading,
    require_file,
    validate_traces,
)
from efex_gui.core.units import time_factor_to_ms

_TITLE = re.compile(r"^(?P<name>.*?)\s*\((?P<unit>[^()]*)\)\s*$")


def _header(path: str, lines: list[str]) -> tuple[int, list[str], list[str]]:
    if not lines or not lines[0].startswith("ATF"):
        raise ReaderError(path, "not an Axon Text File (no 'ATF' first line)")
    try:
        n_header = int(lines[1].split()[0])
    except (IndexError, ValueError) as exc:
        raise ReaderError(path, "bad ATF header-size line") from exc
    header = lines[2 : 2 + n_header]
    signals: list[str] = []
    for line in header:
        if line.startswith('"Signals='):
            signals = [s.strip('"') for s in line.split("\t")[1:]]
    titles = [t.strip().strip('"') for t in lines[2 + n_header].split("\t")]
    return 3 + n_header, titles, signals


def _channels(
    titles: list[str], signals: list[str], table: np.ndarray, path: str
) -> list[Channel]:
    groups: dict[str, list[int]] = {}
    for k, title in enumerate(titles[1:], start=1):
        sweep = re.sub(r"\s*\(.*\)\s*$", "", title)
        groups.setdefault(sweep, []).append(k)
    per_sweep = {len(v) for v in groups.values()}
    if len(per_sweep) != 1:
        raise ReaderError(path, "sweeps have different numbers of signals")
    channels = []
    for position in range(per_sweep.pop()):
        first = next(iter(groups.values()))[position]
        match = _TITLE.match(titles[first])
        unit = clean_unit(match.group("unit")) if match else ""
        name = signals[first - 1] if len(signals) >= first else f"signal {position}"
        sweeps = [
            np.ascontiguousarray(table[:, cols[position]]) for cols in groups.values()
        ]
        channels.append(Channel(name, unit, sweeps))
    return channels


def atf_reader(config_data: dict[str, Any]) -> list[TraceDict]:
    """Read an ATF file: one trace per sweep (``Trace #n``).

    Parameters
    ----------
    config_data : dict
        Metadata with ``filepath``; optional ``v_channel``, ``i_channel`` and the step
        metadata (``ton``, ``toff`` in ms, ``amp``, ``hypamp``, ``i_unit``).

    Returns
    -------
    list of dict
        ``voltage``, ``current``, ``dt``, ``t_unit``, ``v_unit``, ``i_unit``, ``id``.
    """
    path = metadata_filepath(config_data, "atf_reader")
    require_file(path)
    with reading(path, "an Axon Text File"), open(path, encoding="latin-1") as handle:
        lines = handle.read().splitlines()
    start, titles, signals = _header(path, lines)
    with reading(path, "an Axon Text File"):
        table = np.loadtxt(lines[start:], delimiter="\t", ndmin=2, dtype=np.float64)
    if table.shape[0] < 2 or table.shape[1] != len(titles):
        raise ReaderError(
            path, f"{table.shape[1]} data columns for {len(titles)} titles"
        )
    time_title = _TITLE.match(titles[0])
    t_unit = clean_unit(time_title.group("unit")) if time_title else "s"
    time_factor_to_ms(t_unit)  # raises UnitError on an unknown time unit
    dt = float((table[-1, 0] - table[0, 0]) / (table.shape[0] - 1))
    channels = _channels(titles, signals, table, path)
    stem = os.path.splitext(os.path.basename(path))[0]
    traces = channel_traces(channels, config_data, path, dt, t_unit, stem)
    return validate_traces(path, traces, config_data)
