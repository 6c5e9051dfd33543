"""The TRT and VU NWB layouts added by BluePyEfe's OBI fork (spec Appendix A, 7-8).

Behaviour pinned against BluePyEfe 2.3.63's outputs on small files written in each
layout (see tests/core/readers/test_nwb_layouts.py).
"""

from __future__ import annotations

import logging
import re

import h5py
import numpy as np

from efex_gui.core.readers._common import TraceDict, decode
from efex_gui.core.readers.nwb.hdf5 import (
    LayoutRequest,
    format_trace,
    read_attr_or_dataset,
    sampling,
    scaled,
)

logger = logging.getLogger(__name__)

#: VU stimulus_description -> protocol name
VU_PROTOCOLS = {
    "X1PS_SubThresh_DA_0": "IV",
    "X2LP_Search_DA_0": "IDThresh",
    "X5SP_Search_DA_0": "IDThresh",
    "X3LP_Rheo_DA_0": "IDRest",
    "X4PS_SupraThresh_DA_0": "IDRest",
    "X6SP_Rheo_DA_0": "IDRest",
    "X4PT_C2NSD1SHORT_DA_0": "PinkNoise",
    "X4PU_C2NSD2SHORT_DA_0": "PinkNoise",
    "X6SQ_C2SSTRIPLE_DA_0": "SpikeRec",
    "X7Ramp_DA_0": "Ramp",
    "X8_CHIRP_DA_0": "SineSpec",
    "X9_C1QCAPCHK_DA_0": "CapCheck",
    "X9_C1SQCAPCHK_DA_0": "CapCheck",
    "CCSteps_DA_0": "Step",
    "steps_DA_0": "Step",
}
#: VU stimuli whose first 90 ms are overwritten with the value at 90 ms
VU_HOLD_START = ("CCSteps_DA_0", "X1PS_SubThresh_DA_0", "X4PS_SupraThresh_DA_0")
TRT_PROTOCOLS = ("step", "genericstep")
_INDEX = re.compile(r"^(index_)(\d+)$", re.IGNORECASE)
_SWAP = {"0": "1", "1": "0", "2": "3", "3": "2"}


def trt_stimulus_name(name: str) -> str | None:
    """Return the stimulus sweep paired with a TRT acquisition sweep name."""
    match = _INDEX.match(name)
    if match:
        number = int(match.group(2))
        return f"{match.group(1)}{2 * number + 1:0{len(match.group(2))}d}"
    if name.lower().startswith("index_") and name[-1] in _SWAP:
        return name[:-1] + _SWAP[name[-1]]
    return None


def _fix_trt_units(trace: TraceDict, voltage: h5py.Group, current: h5py.Group) -> None:
    v_data, i_data = voltage["data"], current["data"]
    units = (decode(v_data.attrs.get("unit", "")), decode(i_data.attrs.get("unit", "")))
    conversions = (
        float(v_data.attrs.get("conversion", 1.0)),
        float(i_data.attrs.get("conversion", 1.0)),
    )
    if units == ("volts", "volts") and conversions == (1e-12, 1e-3):
        trace["voltage"] = np.array(v_data[()] * 1e-3, dtype=np.float32)
        trace["current"] = np.array(i_data[()] * 1e-12, dtype=np.float32)
        trace["i_unit"] = "amperes"


def read_trt(f: h5py.File, request: LayoutRequest) -> list[TraceDict]:
    """Read the TRT layout (DANDI 000292/000293): step protocols only."""
    if request.protocols is not None and not any(
        p.lower() in TRT_PROTOCOLS for p in request.protocols
    ):
        logger.warning(
            "TRTNWBReader only supports 'step' and 'genericstep' protocols, but "
            "requested: %s. Skipping.",
            request.protocols,
        )
        return []
    acquisition, presentation = f["acquisition"], f.get("stimulus/presentation", {})
    traces = []
    for sweep in acquisition:
        stimulus = trt_stimulus_name(sweep)
        if stimulus is None or stimulus not in presentation:
            continue
        voltage, current = acquisition[sweep], presentation[stimulus]
        trace = format_trace(voltage, current, voltage, sweep, None, request.path)
        _fix_trt_units(trace, voltage, current)
        traces.append(trace)
    return traces


def _vu_trace(
    voltage_series: h5py.Group,
    stimulus: h5py.Group,
    description: str,
    toff: float | None,
    path: str,
) -> TraceDict | None:
    voltage, current = scaled(voltage_series["data"]), scaled(stimulus["data"])
    finite = np.nonzero(~np.isnan(current))[0]
    if voltage.size == 0 or finite.size == 0:
        return None
    end = int(finite[-1]) + 1
    voltage, current = voltage[:end], current[:end]
    dt, t_unit = sampling(voltage_series, path)
    if toff is not None and len(current) * dt * 1000.0 < float(toff):
        return None
    if "bias_current" in voltage_series and isinstance(
        voltage_series["bias_current"], h5py.Dataset
    ):
        bias = voltage_series["bias_current"][()]
        current = current + np.float32(bias * 1e-12)
    if description in VU_HOLD_START:
        index = int(0.090 / dt)
        if index < len(current):
            current[:index] = current[index]
            voltage[:index] = voltage[index]
    return {
        "voltage": voltage,
        "current": current,
        "dt": dt,
        "id": stimulus.name.split("/")[-1],
        "repetition": None,
        "i_unit": decode(stimulus["data"].attrs.get("unit", "")),
        "v_unit": decode(voltage_series["data"].attrs.get("unit", "")),
        "t_unit": t_unit,
    }


def read_vu(f: h5py.File, request: LayoutRequest) -> list[TraceDict]:
    """Read the VU layout (``…DA…`` stimuli with ``…AD…`` responses)."""
    wanted = request.wanted
    acquisition, presentation = f["acquisition"], f["stimulus/presentation"]
    traces = []
    for name in presentation:
        v_name = name.replace("DA", "AD")
        if "DA" not in name or v_name not in acquisition:
            continue
        stimulus = presentation[name]
        description = read_attr_or_dataset(stimulus, "stimulus_description")
        protocol = VU_PROTOCOLS.get(description or "")
        if protocol is None or (wanted is not None and protocol.lower() not in wanted):
            continue
        trace = _vu_trace(
            acquisition[v_name],
            stimulus,
            description,
            request.config_data.get("toff"),
            request.path,
        )
        if trace is not None:
            traces.append(trace)
    return traces
