"""Phase plots (dV/dt against V) and spike-aligned first spikes, with threshold.

The spike threshold and onset time are efel's ``AP_begin_voltage`` and
``AP_begin_time`` (the extraction's efel settings: ``DerivativeThreshold`` etc.), so
the threshold drawn here is the one the summary reports.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from efex_gui.core.analysis.cell_summary import SummaryContext

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = [
    "AlignedSpike",
    "PhasePlot",
    "aligned_first_spike",
    "average_spike",
    "phase_plot",
]


@dataclass(frozen=True)
class PhasePlot:
    """dV/dt (mV/ms) against V (mV) of one sweep over a time window."""

    voltage_mv: np.ndarray
    dvdt_mv_per_ms: np.ndarray
    recording: Any


@dataclass(frozen=True)
class AlignedSpike:
    """A first spike, time 0 at its onset (``AP_begin_time``)."""

    time_ms: np.ndarray
    voltage_mv: np.ndarray
    threshold_mv: float
    recording: Any


def phase_plot(recording: Any, stimulus_only: bool = True) -> PhasePlot | None:
    """Build the phase plot of a sweep (None without traces).

    Parameters
    ----------
    recording : Recording
        The sweep.
    stimulus_only : bool
        Only the stimulus window (``ton`` to ``toff``), where the spikes are.
    """
    t, v = getattr(recording, "t", None), getattr(recording, "voltage", None)
    if t is None or v is None or len(t) < 3:
        return None
    t, v = np.asarray(t, dtype=float), np.asarray(v, dtype=float)
    if stimulus_only and recording.ton is not None and recording.toff is not None:
        keep = (t >= recording.ton) & (t <= recording.toff)
        if np.count_nonzero(keep) >= 3:
            t, v = t[keep], v[keep]
    return PhasePlot(v, np.gradient(v, t), recording)


def aligned_first_spike(
    recording: Any,
    context: SummaryContext | None = None,
    before_ms: float = 3.0,
    after_ms: float = 7.0,
) -> AlignedSpike | None:
    """Cut the sweep's first spike from ``before_ms`` to ``after_ms`` around onset.

    Returns None when the sweep has no spike (or no traces).
    """
    context = context or SummaryContext()
    if getattr(recording, "voltage", None) is None:
        return None
    values = context.cache.get(recording, context.efel_settings)
    if values is None:
        return None
    onset, threshold = values.get("AP_begin_time"), values.get("AP_begin_voltage")
    if onset is None or threshold is None:
        return None
    t = np.asarray(recording.t, dtype=float)
    keep = (t >= onset - before_ms) & (t <= onset + after_ms)
    v = np.asarray(recording.voltage, dtype=float)[keep]
    return AlignedSpike(t[keep] - onset, v, threshold, recording)


def average_spike(
    spikes: Sequence[AlignedSpike], step_ms: float | None = None
) -> AlignedSpike | None:
    """Average aligned spikes on a common time grid (None for no spikes).

    The grid spans the window all spikes cover, at the finest sampling among them
    (or ``step_ms``); the threshold is the mean threshold.
    """
    spikes = [s for s in spikes if len(s.time_ms) >= 2]
    if not spikes:
        return None
    start = max(float(s.time_ms[0]) for s in spikes)
    stop = min(float(s.time_ms[-1]) for s in spikes)
    step = step_ms or min(float(np.min(np.diff(s.time_ms))) for s in spikes)
    grid = np.arange(start, stop + step / 2, step)
    traces = [np.interp(grid, s.time_ms, s.voltage_mv) for s in spikes]
    return AlignedSpike(
        grid,
        np.mean(traces, axis=0),
        float(np.mean([s.threshold_mv for s in spikes])),
        None,
    )
