"""Cheap looks into recording files, for ``efex inspect`` and the GUI import dialog.

``inspect_file(path)`` reports what a reader would see (format, sweeps, protocols,
channels with units, sampling rate) reading headers and attributes only where the
format allows it (NWB, ABF); ``list_nwb_protocols(path)`` lists an NWB file's
protocols and their sweeps without loading any trace.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from efex_gui.core.errors import ReaderError
from efex_gui.core.readers._channels import clamp_of_channels
from efex_gui.core.readers._common import decode, reading, require_file
from efex_gui.core.units import time_factor_to_ms


def list_nwb_protocols(path: str) -> dict[str, list[str]]:
    """Return ``{protocol: [sweep names]}`` for an NWB file, reading attributes only.

    Parameters
    ----------
    path : str
        The ``.nwb`` file.

    Returns
    -------
    dict
        Protocol names (as the reader would match them) to series names.
    """
    from efex_gui.core.readers.nwb.hdf5 import detect_layout, open_nwb

    with open_nwb(path) as f, reading(path, "an NWB file"):
        layout = detect_layout(f)
        protocols = _LISTERS[layout](f)
    return {name: sweeps for name, sweeps in protocols.items() if sweeps}


def _list_bbp(f: Any) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for cell in f["data_organization"].values():
        for protocol, group in cell.items():
            names = out.setdefault(protocol, [])
            for repetition in group.values():
                for sweep in repetition.values():
                    names.extend(n for n in sweep if n.startswith(("ic_", "ccs_")))
    return out


def _list_scala(f: Any) -> dict[str, list[str]]:
    from efex_gui.core.readers.nwb.layouts import is_voltage_clamp, scala_protocol

    out: dict[str, list[str]] = {}
    for name, series in f.get("acquisition", {}).items():
        readable = hasattr(series, "attrs") and "data" in series
        if readable and not is_voltage_clamp(series):
            out.setdefault(scala_protocol(series), []).append(name)
    return out


def _list_aibs(f: Any) -> dict[str, list[str]]:
    from efex_gui.core.readers.nwb.hdf5 import read_attr_or_dataset
    from efex_gui.core.readers.nwb.layouts import is_voltage_clamp

    out: dict[str, list[str]] = {}
    for name, series in f["acquisition/timeseries"].items():
        if is_voltage_clamp(series):
            continue
        protocol = read_attr_or_dataset(series, "aibs_stimulus_name") or "unknown"
        out.setdefault(protocol, []).append(name)
    return out


def _list_vu(f: Any) -> dict[str, list[str]]:
    from efex_gui.core.readers.nwb.hdf5 import read_attr_or_dataset
    from efex_gui.core.readers.nwb.obi import VU_PROTOCOLS

    out: dict[str, list[str]] = {}
    for name, stimulus in f["stimulus/presentation"].items():
        description = read_attr_or_dataset(stimulus, "stimulus_description") or ""
        if description in VU_PROTOCOLS:
            out.setdefault(VU_PROTOCOLS[description], []).append(name)
    return out


def _list_trt(f: Any) -> dict[str, list[str]]:
    from efex_gui.core.readers.nwb.obi import trt_stimulus_name

    presentation = f.get("stimulus/presentation", {})
    return {
        "Step": [n for n in f["acquisition"] if trt_stimulus_name(n) in presentation]
    }


_LISTERS = {
    "bbp": _list_bbp,
    "scala": _list_scala,
    "aibs": _list_aibs,
    "vu": _list_vu,
    "trt": _list_trt,
}


def _inspect_nwb(path: str) -> dict[str, Any]:
    from efex_gui.core.readers.nwb.hdf5 import detect_layout, open_nwb

    with open_nwb(path) as f, reading(path, "an NWB file"):
        layout = detect_layout(f)
        protocols = _LISTERS[layout](f)
        sweeps = []
        for name, series in f.get("acquisition", {}).items():
            if not hasattr(series, "attrs") or "data" not in series:
                continue
            rate = (
                series["starting_time"].attrs.get("rate")
                if "starting_time" in series
                else None
            )
            sweeps.append(
                {
                    "id": name,
                    "n_samples": int(series["data"].shape[0]),
                    "sampling_rate": float(rate) if rate is not None else None,
                    "unit": decode(series["data"].attrs.get("unit", "")),
                    "type": decode(series.attrs.get("neurodata_type", "")),
                }
            )
    rates = {s["sampling_rate"] for s in sweeps if s["sampling_rate"]}
    return {
        "format": "nwb",
        "layout": layout,
        # the same list as the import dialog's (list_nwb_protocols)
        "protocols": sorted(name for name, names in protocols.items() if names),
        "n_voltage_clamp": sum(s["type"] == "VoltageClampSeries" for s in sweeps),
        "sweeps": sweeps,
        "n_sweeps": len(sweeps),
        "sampling_rate": rates.pop() if len(rates) == 1 else None,
    }


def _inspect_abf(path: str) -> dict[str, Any]:
    from efex_gui.core.readers._channels import unit_kind
    from efex_gui.core.readers.axon import open_abf

    io, block = open_abf(path)
    header = io._axon_info
    channels = []
    for signal in block.segments[0].analogsignals:
        names = signal.array_annotations.get("channel_names", [])
        for name in names:
            unit = signal.units.dimensionality.string
            channels.append(
                {"name": str(name).strip(), "unit": unit, "kind": unit_kind(unit)}
            )
    first = block.segments[0].analogsignals[0]
    return {
        "format": "abf",
        "version": float(np.round(header["fFileVersionNumber"], 2)),
        "n_sweeps": len(block.segments),
        "channels": channels,
        "sampling_rate": float(first.sampling_rate.rescale("Hz")),
        "sweeps": [
            {"id": f"sweep{k}", "n_samples": int(s.analogsignals[0].shape[0])}
            for k, s in enumerate(block.segments)
        ],
        "protocols": [
            os.path.splitext(
                os.path.basename(
                    str(header.get("sProtocolPath", "")).replace("\\", "/")
                )
            )[0]
        ],
    }


def _inspect_igor(path: str) -> dict[str, Any]:
    from efex_gui.core.readers._channels import unit_kind
    from efex_gui.core.readers.igor import wave_header, wave_note_fields

    wave = wave_header(path)  # not the samples: the extraction reads them
    note = wave_note_fields(wave["note"])
    return {
        "format": "igor",
        "version": wave["version"],
        "n_sweeps": 1,
        "channels": [
            {
                "name": wave["name"],
                "unit": wave["unit"],
                "kind": unit_kind(wave["unit"]),
            }
        ],
        "sampling_rate": 1.0 / float(wave["dt"]) if wave["dt"] else None,
        "dt": float(wave["dt"]),
        "t_unit": wave["x_unit"] or None,
        "sweeps": [{"id": wave["name"], "n_samples": int(wave["n_samples"])}],
        "protocols": [note["PATTERN"]] if "PATTERN" in note else [],
    }


def _inspect_text(path: str) -> dict[str, Any]:
    from efex_gui.core.readers.text import load_table

    table = load_table(path)
    return {
        "format": "text",
        "n_rows": int(table.shape[0]),
        "n_columns": int(table.shape[1]),
        "n_sweeps": None,
        "protocols": [],
        "sampling_rate": None,
    }


def _channel_info(channels: list[Any]) -> list[dict[str, Any]]:
    from efex_gui.core.readers._channels import unit_kind

    return [
        {"name": c.name, "unit": c.unit, "kind": unit_kind(c.unit)} for c in channels
    ]


def _inspect_wcp(path: str) -> dict[str, Any]:
    from neo.io import WinWcpIO

    from efex_gui.core.readers.axon_units import signal_channels

    with reading(path, "a WinWCP file"):
        block = WinWcpIO(filename=path).read_block()
    channels = signal_channels(block)
    rate = block.segments[0].analogsignals[0].sampling_rate if block.segments else None
    return {
        "clamp": clamp_of_channels(channels, 1e3 / float(rate.rescale("Hz")))
        if rate is not None
        else None,
        "format": "wcp",
        "n_sweeps": len(block.segments),
        "protocols": [],
        "channels": _channel_info(channels),
        "sampling_rate": float(rate.rescale("Hz")) if rate is not None else None,
        "sweeps": [
            {"id": f"record{k}", "n_samples": int(s.analogsignals[0].shape[0])}
            for k, s in enumerate(block.segments)
        ],
    }


def _atf_time_factor(title: str) -> float:
    """Ms per unit of an ATF time column title ("Time (s)"); seconds by default."""
    from efex_gui.core.readers.atf import _TITLE

    match = _TITLE.match(title)
    try:
        return time_factor_to_ms(match.group("unit").strip() if match else "s")
    except Exception:  # an odd unit: the clamp check is only a hint
        return 1e3


def _inspect_atf(path: str) -> dict[str, Any]:
    from efex_gui.core.readers.atf import _channels, _header

    with reading(path, "an Axon Text File"), open(path, encoding="latin-1") as handle:
        lines = handle.read().splitlines()
    start, titles, signals = _header(path, lines)
    with reading(path, "an Axon Text File"):
        table = np.loadtxt(lines[start:], delimiter="\t", ndmin=2, dtype=np.float64)
    channels = _channels(titles, signals, table, path)
    dt = (table[-1, 0] - table[0, 0]) / max(table.shape[0] - 1, 1)
    return {
        "clamp": clamp_of_channels(channels, dt * _atf_time_factor(titles[0])),
        "format": "atf",
        "n_sweeps": len(channels[0].sweeps) if channels else 0,
        "protocols": [],
        "channels": _channel_info(channels),
        "sampling_rate": float(1.0 / dt) if dt > 0 else None,
        "time_title": titles[0],
    }


_INSPECTORS = {
    ".nwb": _inspect_nwb,
    ".abf": _inspect_abf,
    ".ibw": _inspect_igor,
    ".bwav": _inspect_igor,
    ".atf": _inspect_atf,
    ".wcp": _inspect_wcp,
    ".txt": _inspect_text,
    ".csv": _inspect_text,
}


def _extension(path: str) -> str:
    """Return the format's extension, read as the readers do.

    From the end of the name, else BluePyEfe's substring rule.
    """
    from efex_gui.core.readers.neo_generic import NEO_FORMATS, UNREADABLE

    lowered = path.lower()
    known = [*_INSPECTORS, ".dat", *NEO_FORMATS, *UNREADABLE]
    ending = [e for e in known if lowered.endswith(e)]
    if ending:
        return max(ending, key=len)
    substring = [e for e in (".abf", ".ibw", ".bwav", ".nwb", ".txt") if e in path]
    return substring[0] if substring else ""


def inspect_file(path: str) -> dict[str, Any]:
    """Describe a recording file without extracting anything.

    Parameters
    ----------
    path : str
        Any file a reader accepts.

    Returns
    -------
    dict
        Always ``path``, ``format``, ``n_sweeps``, ``protocols``, ``sampling_rate``;
        plus, by format, ``sweeps`` (id, samples), ``channels`` (name, unit), ``layout``
        (NWB), ``version`` (ABF, Igor), ``n_rows``/``n_columns`` (text).
    """
    path = str(path)
    require_file(path)
    extension = _extension(path)
    inspector = _INSPECTORS.get(extension)
    if extension == ".dat":
        from efex_gui.core.readers.heka import inspect_heka, is_patchmaster

        inspector = inspect_heka if is_patchmaster(path) else _inspect_text
    if inspector is None:
        from efex_gui.core.readers.neo_generic import (
            NEO_FORMATS,
            UNREADABLE,
            inspect_neo,
        )

        if extension not in NEO_FORMATS and extension not in UNREADABLE:
            raise ReaderError(path, "unknown format")
        inspector = inspect_neo
    info = inspector(path)
    info["path"] = path
    info.setdefault("clamp", _clamp(info, path))
    return info


def _clamp(info: dict[str, Any], path: str) -> str | None:
    """Return the clamp mode the readers would report: 'current', 'voltage' or None."""
    if info["format"] == "abf":
        from efex_gui.core.readers.abf_protocol import read_abf_protocol

        try:
            return read_abf_protocol(path).clamp or None
        except Exception:  # pyabf cannot read the header: the channels decide
            kinds = {c["kind"] for c in info.get("channels", [])}
            return "current" if "voltage" in kinds else None
    if info["format"] == "heka":
        modes = {m for s in info.get("series", []) for m in s["modes"]}
        return (
            "current"
            if "current clamp" in modes
            else ("voltage" if "voltage clamp" in modes else None)
        )
    if info["format"] == "nwb":
        if info["protocols"]:
            return "current"
        return "voltage" if info.get("n_voltage_clamp") else None
    return None
