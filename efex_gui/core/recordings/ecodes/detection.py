"""Stimulus-detection building blocks shared by the eCodes (spec §3.4).

The numbers are BluePyEfe's: width-85 median filters (reflect boundaries), a base
current from the first 300 *samples*, an edge threshold from the noise of the raw
current's first and last 50 samples, and a 2 ms buffer at both ends of the trace.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import scipy.ndimage

#: Median-filter width (samples) of the smoothed current.
SMOOTHING_WIDTH = 85
#: Median-filter width (samples) used by SpikeRec.
SPIKEREC_SMOOTHING_WIDTH = 15
#: Default number of samples the holding current is measured on.
BASE_CURRENT_SAMPLES = 300
#: Noise factor of the step-edge threshold for Step (SAHP uses 2.0).
STEP_NOISE_FACTOR = 4.5
SAHP_NOISE_FACTOR = 2.0
#: Samples at each end of the raw current used to estimate the noise.
NOISE_SAMPLES = 50
#: Lower bound of the edge threshold (nA).
MIN_EDGE_THRESHOLD = 1e-5
#: Time (ms) ignored at both ends of the trace during edge detection.
BUFFER_MS = 2.0


def smooth(current: Any, width: int = SMOOTHING_WIDTH) -> np.ndarray:
    """Median-filtered current, as float64 (BluePyEfe converts it to a Python list).

    Parameters
    ----------
    current : array_like
        The current (nA).
    width : int
        Filter width in samples.

    Returns
    -------
    numpy.ndarray
        The smoothed current; float64 so that later arithmetic rounds like
        BluePyEfe's list-of-Python-floats.
    """
    filtered = scipy.ndimage.median_filter(np.asarray(current), size=width)
    return np.asarray(filtered, dtype=np.float64)


def median(values: Any) -> Any:
    """``numpy.median`` that returns NaN quietly on an empty slice."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.median(values)


def median_outside(values: Any, start: int, stop: int) -> Any:
    """Median of ``values`` before ``start`` and from ``stop`` on (the holding)."""
    values = np.asarray(values)
    return median(np.concatenate((values[:start], values[stop:])))


def base_current(current: Any, idx_ton: int = BASE_CURRENT_SAMPLES) -> float:
    """Estimate the holding current: median of the smoothed first ``idx_ton`` samples.

    Parameters
    ----------
    current : array_like
        The raw current (nA).
    idx_ton : int
        Number of samples (not ms) to use; capped at the trace length.

    Returns
    -------
    float
        The holding current (nA).
    """
    current = np.asarray(current)
    idx = min(int(idx_ton), len(current))
    holding: float = median(smooth(current[:idx]))
    return holding


def edge_threshold(current: Any, factor: float = STEP_NOISE_FACTOR) -> float:
    """Return the detection threshold (nA): ``factor`` x the noise of the ends.

    The noise is the standard deviation of the first and last 50 samples together;
    the threshold is never below 1e-5 nA.
    """
    current = np.asarray(current)
    ends = np.concatenate((current[:NOISE_SAMPLES], current[-NOISE_SAMPLES:]))
    threshold: float = max(factor * np.std(ends), MIN_EDGE_THRESHOLD)
    return threshold


def buffer_samples(dt: float) -> int:
    """Return the number of samples in the 2 ms edge buffer (at least 1)."""
    return max(1, int(BUFFER_MS / dt))


def first_crossing(deviation: np.ndarray, threshold: float, start: int) -> int:
    """First index >= ``start`` where ``deviation > threshold`` (``start`` if none)."""
    return start + int(np.argmax(deviation[start:] > threshold))


def last_crossing(deviation: np.ndarray, threshold: float, stop: int) -> int:
    """Last index < ``stop`` where ``deviation > threshold`` (``stop - 1`` if none)."""
    above = deviation[:stop] > threshold
    return stop - 1 - int(np.argmax(above[::-1]))


def has_crossing(
    deviation: np.ndarray, threshold: float, start: int, stop: int
) -> bool:
    """Whether ``deviation`` exceeds ``threshold`` anywhere in ``[start, stop)``."""
    return bool(np.any(deviation[start:stop] > threshold))


def mean_or_nan(values: Any) -> Any:
    """``numpy.mean`` that returns NaN quietly for an empty input."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.mean(values)
