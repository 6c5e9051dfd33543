"""The BBP, AIBS and Scala NWB layouts (spec §7.5); see ``readers.nwb``.

Each function takes the open file and a :class:`~.hdf5.LayoutRequest` (the requested
protocols and repetitions, the metadata and the path) and returns trace dicts.
"""

from __future__ import annotations

import logging
import os
from typing import Any

import h5py
import numpy as np

from efex_gui.core.readers._common import TraceDict, decode
from efex_gui.core.readers.nwb.hdf5 import (
    LayoutRequest,
    RepetitionError,
    format_trace,
    read_attr_or_dataset,
)
from efex_gui.core.readers.nwb.pairing import find_stimulus

logger = logging.getLogger(__name__)


def _bbp_protocol_groups(
    cell: h5py.Group, protocols: list[str] | None
) -> list[h5py.Group]:
    if protocols is None:
        return [cell[k] for k in cell]
    groups = []
    for protocol in protocols:
        if protocol in cell:
            groups.append(cell[protocol])
            continue
        match = [k for k in cell if k.lower() == protocol.lower()]
        if match:
            groups.append(cell[match[0]])
    return groups


def _bbp_repetitions(
    group: h5py.Group, repetitions: list[int] | None, path: str
) -> list[tuple[int, h5py.Group]]:
    available = {}
    for key in group:
        if key.startswith("repetition "):
            available[int(key.split(" ")[-1])] = group[key]
    if repetitions is None:
        return list(available.items())
    missing = [r for r in repetitions if r not in available]
    if missing:
        raise RepetitionError(
            f"Repetition(s) {missing} requested but not found in {group.name} "
            f"of {path} "
            f"(available: {sorted(available)})."
        )
    return [(r, available[r]) for r in repetitions]


def _bbp_current_name(trace_name: str) -> str | None:
    if trace_name.startswith("ccs_"):
        return "ccss_" + trace_name[len("ccs_") :]
    if trace_name.startswith("ic_"):
        return "ics_" + trace_name[len("ic_") :]
    return None


def _bbp_keep(series: h5py.Group, v_file: Any) -> bool:
    if v_file is None:
        return True
    description = series.attrs.get("description")
    if description is None:
        logger.warning(
            "%s has no description; cannot filter it by v_file.", series.name
        )
        return False
    return decode(description).endswith(os.path.basename(str(v_file)))


def read_bbp(f: h5py.File, request: LayoutRequest) -> list[TraceDict]:
    """Read a BBP-converted file through its ``data_organization`` hierarchy."""
    acquisition, presentation = (
        f.get("acquisition", {}),
        f.get("stimulus/presentation", {}),
    )
    traces = []
    for cell_name in f["data_organization"]:
        cell = f["data_organization"][cell_name]
        for protocol_group in _bbp_protocol_groups(cell, request.protocols):
            for rep, rep_group in _bbp_repetitions(
                protocol_group, request.repetitions, request.path
            ):
                for sweep in rep_group:
                    for trace_name in rep_group[sweep]:
                        current_name = _bbp_current_name(trace_name)
                        if current_name is None or current_name not in presentation:
                            continue
                        if trace_name not in acquisition:
                            continue
                        voltage = acquisition[trace_name]
                        if not _bbp_keep(voltage, request.config_data.get("v_file")):
                            continue
                        current = presentation[current_name]
                        traces.append(
                            format_trace(
                                voltage, current, current, trace_name, rep, request.path
                            )
                        )
    return traces


def read_aibs(f: h5py.File, request: LayoutRequest) -> list[TraceDict]:
    """Read an Allen Institute NWB 1 file (``acquisition/timeseries``)."""
    wanted = request.wanted
    presentation = f.get("stimulus/presentation", {})
    traces = []
    voltage_clamp = 0
    for sweep in f["acquisition/timeseries"]:
        series = f["acquisition/timeseries"][sweep]
        if is_voltage_clamp(series):
            voltage_clamp += 1
            continue
        protocol = read_attr_or_dataset(series, "aibs_stimulus_name")
        if wanted and (protocol is None or protocol.lower() not in wanted):
            continue
        if sweep not in presentation:
            continue
        traces.append(
            format_trace(series, presentation[sweep], series, sweep, None, request.path)
        )
    return _note_voltage_clamp(traces, voltage_clamp, request.path)


def scala_protocol(series: h5py.Group) -> str:
    """Return a Scala sweep's protocol name, normalised as BluePyEfe 2.3.63 does."""
    if "stimulus_description" not in series.attrs:
        logger.warning(
            'Could not find "stimulus_description" attribute for %s, '
            'Setting it as "Step"',
            series.name.split("/")[-1],
        )
        return "Step"
    name = decode(series.attrs["stimulus_description"])
    if name.lower() == "na" or (
        "step" in name.lower() and name.lower() != "genericstep"
    ):
        return "Step"
    return name


def _scala_repetition(f: h5py.File, sweep: str) -> Any:
    table = f["general/intracellular_ephys/intracellular_recordings/repetition"]
    return int(np.asarray(table[int(sweep.split("_")[-1])]))


def read_scala(f: h5py.File, request: LayoutRequest) -> list[TraceDict]:
    """Read the Scala layout (``…Series_N`` + ``…StimulusSeries_N``), the default."""
    wanted = request.wanted
    acquisition = f.get("acquisition", {})
    presentation = f.get("stimulus/presentation", {})
    traces = []
    voltage_clamp = 0
    for sweep in acquisition:
        series = acquisition[sweep]
        if not isinstance(series, h5py.Group) or "data" not in series:
            continue
        if is_voltage_clamp(series):
            voltage_clamp += 1
            continue
        protocol = scala_protocol(series)
        if wanted is not None and protocol.lower() not in wanted:
            continue
        current_name = sweep.replace("Series", "StimulusSeries")
        current = (
            presentation.get(current_name) if current_name in presentation else None
        )
        if current is None:
            current = find_stimulus(f, series)
            if current is None:
                continue
        repetition = None
        if request.repetitions is not None:
            repetition = _scala_repetition(f, sweep)
            if repetition not in request.repetitions:
                continue
        traces.append(
            format_trace(series, current, series, sweep, repetition, request.path)
        )
    return _note_voltage_clamp(traces, voltage_clamp, request.path)


#: NWB types of voltage-clamp responses (trap T11)
VC_RESPONSES = ("VoltageClampSeries",)


def is_voltage_clamp(series: h5py.Group) -> bool:
    """Whether an acquisition series is a voltage-clamp response.

    NWB 2 says it in ``neurodata_type``; NWB 1 (AIBS, MIES before 2019) only in the
    ``ancestry`` list (trap T14).
    """
    if decode(series.attrs.get("neurodata_type", "")) in VC_RESPONSES:
        return True
    ancestry = series.attrs.get("ancestry")
    if ancestry is None:
        return False
    names = [decode(a) for a in np.atleast_1d(ancestry)]
    return any(name in VC_RESPONSES for name in names)


def _note_voltage_clamp(
    traces: list[TraceDict], voltage_clamp: int, path: str
) -> list[TraceDict]:
    """Say how many voltage-clamp series were skipped; refuse a file of only those."""
    from efex_gui.core.readers.clamp import plural, refuse_voltage_clamp

    if voltage_clamp and not traces:
        refuse_voltage_clamp(path, voltage_clamp, "series")
    if voltage_clamp:
        note = f"{plural(voltage_clamp, 'voltage-clamp series')} skipped"
        traces[0]["reader_note"] = note.replace("seriess", "series")
    return traces
