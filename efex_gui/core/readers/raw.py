"""The raw voltage and current of a file, for display when interpretation failed.

A recording whose eCode is unknown, whose stimulus is missing or which is refused
(voltage clamp) is still drawn: the person sees what the file holds and the reason.
Readers honour :data:`RAW_ONLY` in the metadata: they then skip every refusal and
every stimulus requirement and return the channels as they are (the voltage channel,
else the first channel; the current channel or none).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from efex_gui.core.readers._common import RAW_ONLY

if TYPE_CHECKING:
    from efex_gui.core.readers._common import TraceDict

__all__ = ["RAW_ONLY", "RawTrace", "raw_trace"]


@dataclass(frozen=True)
class RawTrace:
    """One sweep as found in the file, converted to ms / mV / nA where units allow.

    ``t`` is in ms (sample numbers when the time unit is unknown); ``voltage`` and
    ``current`` carry their unit labels (``current`` None when the file has none).
    """

    t: np.ndarray
    voltage: np.ndarray
    current: np.ndarray | None
    t_label: str = "ms"
    v_label: str = "mV"
    i_label: str = "nA"


def _convert(values: Any, unit: Any, kind: str) -> tuple[np.ndarray, str]:
    from efex_gui.core.readers._channels import unit_kind
    from efex_gui.core.units import to_mv, to_na

    array = np.asarray(values, dtype=np.float64)
    if unit and unit_kind(str(unit)) == kind:
        if kind == "voltage":
            return np.asarray(to_mv(array, str(unit)), dtype=float), "mV"
        return np.asarray(to_na(array, str(unit)), dtype=float), "nA"
    return array, str(unit or "no unit")


def raw_trace(trace: TraceDict, config: dict[str, Any]) -> RawTrace:
    """Build a :class:`RawTrace` from a reader's trace dict (config units win)."""
    from efex_gui.core.units import time_factor_to_ms

    voltage, v_label = _convert(
        trace["voltage"], config.get("v_unit") or trace.get("v_unit"), "voltage"
    )
    current = trace.get("current")
    i_label = ""
    if current is not None and np.ndim(current) > 0:
        current, i_label = _convert(
            current, config.get("i_unit") or trace.get("i_unit"), "current"
        )
    else:
        current = None
    dt: Any = config.get("dt") or trace.get("dt")
    t_unit = config.get("t_unit") or trace.get("t_unit")
    try:
        t = np.arange(voltage.size) * float(dt) * time_factor_to_ms(t_unit)
        t_label = "ms"
    except Exception:  # unknown dt or time unit: sample numbers
        t, t_label = np.arange(voltage.size, dtype=float), "sample"
    return RawTrace(t, voltage, current, t_label, v_label, i_label)
