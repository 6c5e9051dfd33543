"""A robust square-step finder: where a sweep's current step starts and ends.

BluePyEfe's per-sweep detection (``ecodes.detection``) thresholds the current's
deviation from a holding taken over the first 300 samples, at 4.5 x the noise of the
trace's ends; it fails on noisy currents (no edge above the threshold), on steps that
start within the first 300 samples (IV at 20 ms: the holding already contains the
step) and on current transients (a spike artefact read as the step). The finder here
is used to form a protocol's consensus window
(:mod:`efex_gui.core.recordings.timing_consensus`):

1. the current is median filtered (BluePyEfe's 85 samples), then averaged into at
   most :data:`COARSE_POINTS` blocks;
2. the single step (holding outside, plateau inside) that explains most of the
   variance of the blocks is found exhaustively with cumulative sums (short
   transients explain little variance, a long plateau a lot);
3. each edge is refined on the filtered current at full resolution: the first (last)
   sample near the coarse edge beyond half the step;
4. the step is *clear* when it stands out of the residual noise both inside and
   outside the window (:data:`CLEAR_STEP_FACTOR`), which a ramp, a chirp or noise
   does not, and when almost no sample of the holding or the plateau lies more than
   half the step away (:data:`MAX_STRAY_FRACTION`), which a multi-step protocol
   does not.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from efex_gui.core.recordings.ecodes import detection

__all__ = [
    "CLEAR_STEP_FACTOR",
    "COARSE_POINTS",
    "StepWindow",
    "coarse_blocks",
    "find_step",
    "fraction_beyond",
    "refine_edge",
    "robust_std",
]

#: Blocks the filtered current is averaged into for the exhaustive search.
COARSE_POINTS = 600
#: A step is clear when |amp| exceeds this many robust residual standard deviations.
CLEAR_STEP_FACTOR = 8.0
#: A clear step has at most this fraction of its holding or plateau samples more
#: than half the step away (another step outside the window: a multi-step protocol).
MAX_STRAY_FRACTION = 0.05
#: Shortest clear step, in blocks of the coarse search.
MIN_STEP_BLOCKS = 2


@dataclass(frozen=True)
class StepWindow:
    """One sweep's step as the robust finder sees it.

    Attributes
    ----------
    ton, toff : float
        Start and end of the step (ms).
    amp : float
        Plateau minus holding (nA, median filtered current).
    noise : float
        Robust standard deviation of the filtered current around the fitted step (nA).
    clear : bool
        Whether the step stands out clearly (``|amp| > CLEAR_STEP_FACTOR * noise``).
    """

    ton: float
    toff: float
    amp: float
    noise: float
    clear: bool


def robust_std(values: np.ndarray) -> float:
    """Robust standard deviation: 1.4826 x the median absolute deviation (0: empty)."""
    if values.size == 0:
        return 0.0
    return float(1.4826 * np.median(np.abs(values - np.median(values))))


def fraction_beyond(values: np.ndarray, level: float) -> float:
    """Fraction of ``values`` farther than ``level`` from zero."""
    return float(np.mean(np.abs(values) > level)) if values.size else 0.0


def coarse_blocks(current: np.ndarray) -> tuple[np.ndarray, int, np.ndarray]:
    """Median filter a current, then average it into at most :data:`COARSE_POINTS`.

    Returns
    -------
    tuple
        ``(smooth, size, blocks)``: the filtered current (BluePyEfe's 85 samples),
        the block length (samples) and the blocks' means.
    """
    smooth = detection.smooth(current)
    size = max(1, int(np.ceil(smooth.size / COARSE_POINTS)))
    m = smooth.size // size
    return smooth, size, smooth[: m * size].reshape(m, size).mean(axis=1)


@functools.lru_cache(maxsize=2)  # 3.3 MB each (600 blocks)
def _window_sizes(m: int) -> tuple[np.ndarray, np.ndarray]:
    """Return ``n_in * (m - n_in)`` of every block window ``[a, b)``, and the invalid.

    Invalid: fewer than ``MIN_STEP_BLOCKS`` blocks inside, or none outside. The same
    for every sweep of one length (a protocol's sweeps are read one after the other):
    made once.
    """
    n_in = (np.arange(m + 1)[None, :] - np.arange(m + 1)[:, None]).astype(float)
    invalid = (n_in < MIN_STEP_BLOCKS) | (n_in > m - 1)
    sizes = n_in * (m - n_in)
    sizes[invalid] = 1.0  # any non-zero number: those scores are replaced
    for array in (sizes, invalid):
        array.setflags(write=False)
    return sizes, invalid


def _coarse_step(blocks: np.ndarray) -> tuple[int, int]:
    """Find ``(a, b)``: the block window ``[a, b)`` maximising explained variance.

    Centred sums: explained variance = S_in^2 * m / (n_in * n_out), in place on one
    array (five arrays of (m + 1)^2 took 4 ms a sweep, most of reading one).
    """
    m = blocks.size
    cumulative = np.concatenate(([0.0], np.cumsum(blocks - blocks.mean())))
    sizes, invalid = _window_sizes(m)
    score = cumulative[None, :] - cumulative[:, None]
    np.square(score, out=score)
    score *= m
    score /= sizes
    score[invalid] = -1.0
    flat = int(np.argmax(score))
    return divmod(flat, m + 1)


def refine_edge(
    smooth: np.ndarray, level: float, edge: int, span: int, rising: bool
) -> int:
    """Find the sample of ``edge`` (±``span``) where ``smooth`` crosses ``level``.

    ``rising`` (a start): the first sample beyond the level; otherwise (an end)
    one past the last sample beyond it.
    """
    lo, hi = max(0, edge - span), min(smooth.size, edge + span)
    beyond = smooth[lo:hi] > level
    if not beyond.any():
        return edge
    if rising:
        return lo + int(np.argmax(beyond))
    return lo + int(beyond.size - np.argmax(beyond[::-1]))


def find_step(current: np.ndarray, dt: float) -> StepWindow | None:
    """Find the best square step of a sweep's current, or None for a too short trace.

    Parameters
    ----------
    current : numpy.ndarray
        The current (nA).
    dt : float
        Sampling interval (ms).

    Returns
    -------
    StepWindow or None
        None when the trace has fewer than ``4 * MIN_STEP_BLOCKS`` samples.
    """
    current = np.asarray(current, dtype=float)
    n = current.size
    if n < 4 * MIN_STEP_BLOCKS:
        return None
    smooth, size, blocks = coarse_blocks(current)
    a, b = _coarse_step(blocks)
    start, stop = a * size, b * size
    outside = np.concatenate((smooth[:start], smooth[stop:]))
    holding = float(np.median(outside))
    plateau = float(np.median(smooth[start:stop]))
    amp = plateau - holding
    sign = 1.0 if amp >= 0 else -1.0
    signed = sign * (smooth - holding)
    level = abs(amp) / 2.0
    span = 2 * size + 1
    on = refine_edge(signed, level, start, span, rising=True)
    off = refine_edge(signed, level, stop, span, rising=False)
    inner = smooth[on:off] - plateau
    outer = np.concatenate((smooth[:on], smooth[off:])) - holding
    noise = max(robust_std(inner), robust_std(outer))
    stray = max(fraction_beyond(inner, level), fraction_beyond(outer, level))
    clear = bool(
        off - on >= MIN_STEP_BLOCKS * size
        and abs(amp) > CLEAR_STEP_FACTOR * noise
        and stray < MAX_STRAY_FRACTION
    )
    return StepWindow(on * dt, off * dt, amp, noise, clear)
