"""HEKA PatchMaster bundles (``.dat``, DAT2), read with myokit (formats.md §2.4).

Groups map to cells, series to protocols (the pulse-generator entry's name, e.g.
"Sti 7S-Cc" or "IV"), sweeps to sweeps and the traces of a sweep to amplifier
channels: each channel is a separate recording (trap T20). The metadata selects:

* ``protocol_name``: the series whose label matches (all series when none does, so a
  protocol renamed in the import still reads);
* ``heka_group`` (0-based index) and ``v_channel`` (a trace label such as "Vmon-1"):
  one group / one channel; all of them when absent.

Each trace carries the voltage (V), the current rebuilt from the pulse generator
(nA, :mod:`efex_gui.core.readers.heka_file`) with ``stimulus_source`` "file" and the
step's ``ton``/``toff`` (sample indices), ``amp``/``hypamp`` (nA), the holding current
(``holding_current_pa``) and the recording mode (``clamp``). Where the stimulus
cannot be rebuilt, the trace says why (``stimulus_note``) and the step comes from the
metadata (``ton``, ``toff``, ``amp``, ``hypamp`` in ``i_unit``) or a recorded current
channel; without either the file is refused naming what to add. Series stopped early
(fewer sweeps than the protocol plans) are read as recorded. Voltage-clamp traces are
skipped; a file holding only voltage clamp is refused.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from efex_gui.core.errors import ReaderError
from efex_gui.core.readers._channels import unit_kind
from efex_gui.core.readers._common import (
    TraceDict,
    metadata_filepath,
    metadata_step,
    reading,
    require_file,
    validate_traces,
)
from efex_gui.core.readers.clamp import plural, refuse_voltage_clamp
from efex_gui.core.readers.heka_file import (
    _CC,
    _VC,
    Stimulus,
    match_responses,
    open_patchmaster,
    rebuild,
)
from efex_gui.core.readers.raw import RAW_ONLY

#: the first bytes of a PatchMaster bundle / of older PatchMaster files
BUNDLE_MAGIC = b"DAT2"
OLD_MAGIC = (b"DAT1", b"DATA")


def is_patchmaster(path: str) -> bool:
    """Whether a ``.dat`` file is a PatchMaster file (by its first bytes)."""
    try:
        with open(path, "rb") as handle:
            magic = handle.read(4)
    except OSError:
        return False
    return magic == BUNDLE_MAGIC or magic in OLD_MAGIC


def open_heka(path: str) -> Any:
    """Open a PatchMaster bundle, or raise a ``ReaderError`` saying why not."""
    require_file(path)
    with open(path, "rb") as handle:
        magic = handle.read(4)
    if magic in OLD_MAGIC:
        raise ReaderError(
            path,
            "an older, non-bundled PatchMaster file (DAT1): only bundled DAT2 files "
            "are read. Re-save it from PatchMaster as a bundle.",
        )
    if magic != BUNDLE_MAGIC:
        raise ReaderError(path, f"not a PatchMaster bundle (starts with {magic!r})")
    _check_bundle(path)
    with reading(path, "a HEKA PatchMaster bundle"):
        return open_patchmaster(path)


def _check_bundle(path: str) -> None:
    """Refuse a damaged bundle before myokit opens it (it would leak the file)."""
    import struct

    size = os.path.getsize(path)
    with open(path, "rb") as handle:
        header = handle.read(256)
    little = len(header) > 52 and header[52] != 0
    items = {}
    for k in range(12):
        start = 64 + 16 * k
        if start + 16 > len(header):
            break
        offset, length = struct.unpack(
            "<ii" if little else ">ii", header[start : start + 8]
        )
        name = header[start + 8 : start + 16].split(b"\0")[0].decode("latin-1")
        items[name] = (offset, length)
    for name in (".pul", ".pgf"):
        offset, length = items.get(name, (0, 0))
        if length <= 0 or offset < 0 or offset + length > size:
            raise ReaderError(
                path,
                f"a damaged HEKA PatchMaster bundle: its {name} part is missing or "
                "cut off; open it in PatchMaster and save it again",
            )


def _clamp_of(trace: Any) -> str | None:
    if trace.recording_mode == _VC or unit_kind(str(trace.value_unit())) == "current":
        return "voltage"
    if trace.recording_mode == _CC or unit_kind(str(trace.value_unit())) == "voltage":
        return "current"
    return None


def _selected_series(
    bundle: Any, config_data: dict[str, Any]
) -> list[tuple[str, int, Any]]:
    wanted = config_data.get("protocol_name")
    names = {wanted} if isinstance(wanted, str) else set(wanted or [])
    group_index = config_data.get("heka_group")
    series = [
        (group.label(), s, one)
        for g, group in enumerate(bundle)
        if group_index is None or g == int(group_index)
        for s, one in enumerate(group)
        if len(one)
    ]
    matching = [item for item in series if item[2].label() in names]
    return matching or series


def heka_reader(config_data: dict[str, Any]) -> list[TraceDict]:
    """Read a PatchMaster bundle: one trace per sweep and amplifier channel.

    Parameters
    ----------
    config_data : dict
        Metadata with ``filepath``; optional ``protocol_name``, ``heka_group``,
        ``v_channel`` and the step metadata for stimuli that cannot be rebuilt.

    Returns
    -------
    list of dict
        See the module docstring.
    """
    path = metadata_filepath(config_data, "heka_reader")
    traces: list[TraceDict] = []
    skipped = 0
    with open_heka(path) as bundle, reading(path, "a HEKA PatchMaster bundle"):
        for g, s, series in _selected_series(bundle, config_data):
            new, vc = _series_traces(path, g, s, series, config_data)
            traces.extend(new)
            skipped += vc
    if not traces and skipped:
        refuse_voltage_clamp(path, skipped, "sweeps")
    if not traces:
        raise ReaderError(path, "no current-clamp sweep matches the metadata")
    if skipped:
        traces[0]["reader_note"] = f"{plural(skipped, 'voltage-clamp sweep')} skipped"
    return validate_traces(path, traces, config_data)


def _series_traces(
    path: str, group: str, index: int, series: Any, config_data: dict[str, Any]
) -> tuple[list[TraceDict], int]:
    wanted = config_data.get("v_channel")
    traces, skipped = [], 0
    for k, sweep in enumerate(series):
        stims, moved = _sweep_stimuli(series, k, sweep)
        for c, trace in enumerate(sweep):
            if wanted is not None and trace.label() != str(wanted):
                continue
            if _clamp_of(trace) != "current" and not config_data.get(RAW_ONLY):
                skipped += 1
                continue
            out = _trace_base(group, index, series, k, trace)
            traces.append(_with_stimulus(out, path, config_data, stims[c]))
            if c in moved:
                out["stimulus_note"] += f"; {moved[c]}"
    return traces, skipped


def _sweep_stimuli(
    series: Any, k: int, sweep: Any
) -> tuple[list[Stimulus | str], dict[int, str]]:
    """Each trace's rebuilt stimulus (or why not), checked against the responses."""
    stimulus = series.stimulus()
    channels = list(stimulus)
    planned = int(stimulus.sweep_count())
    if len(channels) != len(sweep):
        why = (
            "the pulse generator has no channel per amplifier, so it is not known "
            "which one drove this trace"
        )
        return [why] * len(sweep), {}
    stims: list[Stimulus | None] = []
    for channel, trace in zip(channels, sweep, strict=True):
        holding_na = float(trace.holding) * 1e9
        stims.append(rebuild(channel, planned, k, holding_na, trace._dt, len(trace)))
    volts = [np.asarray(t.values(), dtype=float) * 1e3 for t in sweep]
    checked, swaps = match_responses(volts, stims, float(sweep[0]._dt))
    labels = [t.label() for t in sweep]
    moved: dict[int, str] = {}
    for pair in filter(None, swaps.split("; ")):
        s, o = (int(x) for x in pair.split("->"))
        moved[o] = (
            f"the pulse generator links this pulse to {labels[s]}, but only "
            f"{labels[o]} responds to it: given to {labels[o]}"
        )
        moved[s] = f"its pulse was given to {labels[o]}, which responds to it"
    return [s if s is not None else "" for s in checked], moved


def _trace_base(
    group: str, index: int, series: Any, sweep: int, trace: Any
) -> TraceDict:
    holding_na = float(trace.holding) * 1e9
    return {
        "voltage": np.asarray(trace.values(), dtype=np.float64),
        "dt": float(trace._dt),
        "t_unit": "s",
        "v_unit": "V",
        "i_unit": "nA",
        "id": f"{group}_{series.label()}_{index + 1}_sweep{sweep + 1}_{trace.label()}",
        "clamp": "current",
        "v_channel": trace.label(),
        "heka_group": group,
        "heka_series": index,
        "holding_current_pa": holding_na * 1e3,
        "series_complete": len(series) >= int(series.stimulus().sweep_count()),
    }


def _with_stimulus(
    out: TraceDict, path: str, config_data: dict[str, Any], stim: Stimulus | str
) -> TraceDict:
    if isinstance(stim, str) or stim.current_na is None:
        reason = stim if isinstance(stim, str) else stim.reason
        return _from_metadata(out, path, config_data, reason)
    dt = out["dt"]
    out.update({"current": stim.current_na, "current_source": "protocol"})
    out.update({"hypamp": stim.holding_na, "stimulus_source": "file"})
    if stim.ton is None or stim.toff is None:
        out.update({"amp": 0.0, "stimulus_note": stim.reason})
        return out
    note = f"step {stim.ton * dt * 1e3:.1f}-{stim.toff * dt * 1e3:.1f} ms"
    out.update({"ton": stim.ton, "toff": stim.toff, "amp": stim.amp_na})
    out["stimulus_note"] = note + (f"; also {stim.others}" if stim.others else "")
    return out


def _from_metadata(
    out: TraceDict, path: str, config_data: dict[str, Any], reason: str
) -> TraceDict:
    """Take the step from the metadata when the pulse generator cannot give it."""
    missing = [k for k in ("ton", "toff", "amp") if config_data.get(k) is None]
    if missing and config_data.get(RAW_ONLY):
        out.update({"current": None, "stimulus_note": f"stimulus unknown: {reason}"})
        return out
    if missing:
        raise ReaderError(
            path,
            f"the stimulus of {out['id']} cannot be rebuilt from the pulse generator "
            f"({reason}); give {missing} in the metadata (ton/toff in ms, amp and "
            "hypamp in i_unit) for its sweeps.",
        )
    i_unit = config_data.get("i_unit") or "nA"
    dt_ms = out["dt"] * 1e3
    out["current"] = metadata_step(config_data, out["voltage"].size, dt_ms)
    out.update(
        {"i_unit": i_unit, "current_source": "metadata", "stimulus_source": "user"}
    )
    out["stimulus_note"] = f"stimulus not rebuilt from the file: {reason}"
    return out


def heka_protocols(path: str) -> list[str]:
    """List the series labels of a bundle, each once, in recording order."""
    labels: list[str] = []
    with open_heka(path) as bundle:
        for group in bundle:
            for series in group:
                if len(series) and series.label() not in labels:
                    labels.append(series.label())
    return labels


def heka_stem(path: str) -> str:
    """Return the file name without its extension (for trace ids)."""
    return os.path.splitext(os.path.basename(path))[0]


def inspect_heka(path: str) -> dict[str, Any]:
    """Describe a bundle for ``efex inspect``: its series, channels and modes."""
    from efex_gui.core.readers.heka_file import RECORDING_MODES

    series, protocols, rates = [], [], set()
    with open_heka(path) as bundle, reading(path, "a HEKA PatchMaster bundle"):
        for group in bundle:
            for index, one in enumerate(group):
                if not len(one):
                    continue
                first = one[0][0]
                rates.add(round(1.0 / float(first._dt), 6))
                if one.label() not in protocols:
                    protocols.append(one.label())
                series.append(
                    {
                        "group": group.label(),
                        "series": index,
                        "protocol": one.label(),
                        "n_sweeps": len(one),
                        "planned_sweeps": int(one.stimulus().sweep_count()),
                        "channels": list(one.channel_names()),
                        "modes": sorted(
                            {RECORDING_MODES.get(t.recording_mode, "?") for t in one[0]}
                        ),
                    }
                )
        version = bundle.version()
    return {
        "format": "heka",
        "version": version,
        "n_sweeps": sum(s["n_sweeps"] for s in series),
        "series": series,
        "protocols": protocols,
        "sampling_rate": rates.pop() if len(rates) == 1 else None,
    }
