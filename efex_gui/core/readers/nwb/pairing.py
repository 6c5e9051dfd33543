"""Find the stimulus of an NWB 2 current-clamp response when names do not pair them.

Used by the Scala layout only for responses BluePyEfe would skip (no
``…StimulusSeries`` twin). Order (formats.md §2.2): the ``intracellular_recordings``
table (object references, NWB ≥ 2.4), then an equal ``sweep_number``.
Only current-clamp responses are paired, so voltage-clamp series stay skipped.
"""

from __future__ import annotations

from typing import Any

import h5py
import numpy as np

from efex_gui.core.readers._common import decode

CC_RESPONSES = ("CurrentClampSeries", "IZeroClampSeries")
CC_STIMULI = ("CurrentClampStimulusSeries",)
_TABLE = "general/intracellular_ephys/intracellular_recordings"


def _type(group: h5py.Group) -> str:
    return decode(group.attrs.get("neurodata_type", ""))


def _from_table(f: h5py.File, series: h5py.Group) -> h5py.Group | None:
    try:
        responses = f[_TABLE + "/responses/response"][()]
        stimuli = f[_TABLE + "/stimuli/stimulus"][()]
    except (KeyError, ValueError, TypeError):
        return None
    for row, response in enumerate(responses):
        try:
            if f[response["timeseries"]].name == series.name and row < len(stimuli):
                stimulus = f[stimuli[row]["timeseries"]]
                return stimulus if _type(stimulus) in CC_STIMULI else None
        except (KeyError, ValueError, TypeError):
            return None
    return None


def sweep_number(group: h5py.Group) -> Any:
    """Return a series' ``sweep_number`` (attribute or dataset) or None."""
    if "sweep_number" in group.attrs:
        return int(np.asarray(group.attrs["sweep_number"]).reshape(-1)[0])
    if "sweep_number" in group and isinstance(group["sweep_number"], h5py.Dataset):
        return int(np.asarray(group["sweep_number"][()]).reshape(-1)[0])
    return None


def _from_sweep_number(f: h5py.File, series: h5py.Group) -> h5py.Group | None:
    number = sweep_number(series)
    presentation = f.get("stimulus/presentation")
    if number is None or presentation is None:
        return None
    for name in presentation:
        candidate = presentation[name]
        if (
            isinstance(candidate, h5py.Group)
            and _type(candidate) in CC_STIMULI
            and sweep_number(candidate) == number
        ):
            return candidate
    return None


def find_stimulus(f: h5py.File, series: h5py.Group) -> h5py.Group | None:
    """Return the stimulus series paired with a current-clamp response, or None."""
    if _type(series) not in CC_RESPONSES:
        return None
    return _from_table(f, series) or _from_sweep_number(f, series)
