"""Display-only trace transforms and the two measuring cursors.

Nothing here changes what the extraction reads: the trace plot applies these to the
copy it draws.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["CursorReadout", "cursor_readout", "low_pass", "subtract_baseline"]


def subtract_baseline(
    time_ms: np.ndarray, voltage_mv: np.ndarray, baseline_end_ms: float | None
) -> np.ndarray:
    """Subtract the voltage's median before ``baseline_end_ms`` (the stimulus onset).

    Without an onset (or no sample before it) the first 10 % of the trace is used.
    """
    t, v = np.asarray(time_ms, dtype=float), np.asarray(voltage_mv, dtype=float)
    before = t < baseline_end_ms if baseline_end_ms is not None else np.zeros_like(t)
    if not np.any(before):
        before = np.arange(len(v)) < max(1, len(v) // 10)
    return v - float(np.median(v[before]))


def low_pass(voltage_mv: np.ndarray, dt_ms: float, cutoff_hz: float) -> np.ndarray:
    """Zero-phase 4-pole Butterworth low-pass (returns the input when not possible).

    Parameters
    ----------
    voltage_mv : numpy.ndarray
        The trace.
    dt_ms : float
        Sampling interval (ms).
    cutoff_hz : float
        -3 dB frequency (Hz); at or above Nyquist nothing is filtered.
    """
    v = np.asarray(voltage_mv, dtype=float)
    nyquist_hz = 500.0 / dt_ms
    if cutoff_hz <= 0 or cutoff_hz >= nyquist_hz or len(v) < 16:
        return v
    # imported when a filter is asked for: scipy.signal adds ~45 MB to every GUI
    from scipy import signal

    sos = signal.butter(4, cutoff_hz / nyquist_hz, output="sos")
    filtered: np.ndarray = signal.sosfiltfilt(sos, v)
    return filtered


@dataclass(frozen=True)
class CursorReadout:
    """What two cursors measure on a trace (times in ms, voltages in mV)."""

    t1_ms: float
    t2_ms: float
    v1_mv: float
    v2_mv: float
    mean_mv: float

    @property
    def dt_ms(self) -> float:
        """``t2 - t1``."""
        return self.t2_ms - self.t1_ms

    @property
    def dv_mv(self) -> float:
        """``V(t2) - V(t1)``."""
        return self.v2_mv - self.v1_mv


def cursor_readout(
    time_ms: np.ndarray, voltage_mv: np.ndarray, t1_ms: float, t2_ms: float
) -> CursorReadout:
    """Voltages at two cursor times (interpolated) and the mean between them.

    The cursors may be given in any order; the mean is over the samples between
    them (the interpolated value when no sample falls between).
    """
    t, v = np.asarray(time_ms, dtype=float), np.asarray(voltage_mv, dtype=float)
    v1, v2 = (float(np.interp(x, t, v)) for x in (t1_ms, t2_ms))
    low, high = sorted((t1_ms, t2_ms))
    between = (t >= low) & (t <= high)
    mean = float(np.mean(v[between])) if np.any(between) else (v1 + v2) / 2
    return CursorReadout(t1_ms, t2_ms, v1, v2, mean)
