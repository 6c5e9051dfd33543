"""A robust ramp finder: where a sweep's current ramp starts and where it stops.

BluePyEfe's Ramp eCode (spec §3.5.2) cannot find a ramp's start: ``ton`` must be in
the metadata (``toff`` defaults to the position of the current's maximum). The finder
here gives a folder import the window a person would otherwise type
(:mod:`efex_gui.core.session.protocol_reading` forms the protocol's consensus with
:func:`~efex_gui.core.recordings.timing_consensus.protocol_consensus`, as for steps):

1. the current is median filtered and averaged into blocks, as for the step finder
   (:func:`~efex_gui.core.recordings.step_window.coarse_blocks`);
2. the single ramp (holding outside; inside, a line that starts at the holding level
   and rises, or falls, until the current jumps back) that explains most of the
   variance of the blocks is found exhaustively with cumulative sums;
3. at full resolution, the line is fitted on the ramp's inside and the holding level
   taken outside it: ``ton`` is where the line meets the holding level (a fit of the
   whole ramp, so the noise of single samples hardly moves it), ``toff`` the sample
   after the last one beyond half the ramp's final height (where the current jumps
   back: the window is ``[ton, toff)``, as a step's);
4. the ramp is *clear* when its height stands out of the residual noise
   (:data:`CLEAR_RAMP_FACTOR`), when almost no sample lies more than a quarter of the
   height from the fitted shape (:data:`MAX_STRAY_FRACTION`: a step, a chirp or noise
   does not fit a ramp) and when the current returns to its holding level before the
   trace ends. Otherwise ``reason`` says what was found instead.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from efex_gui.core.recordings.step_window import (
    coarse_blocks,
    fraction_beyond,
    refine_edge,
    robust_std,
)

__all__ = ["CLEAR_RAMP_FACTOR", "RampWindow", "find_ramp"]

#: A ramp is clear when its final height exceeds this many residual standard deviations.
CLEAR_RAMP_FACTOR = 8.0
#: A clear ramp has at most this fraction of samples more than a quarter of its height
#: from the fitted holding-ramp-holding shape.
MAX_STRAY_FRACTION = 0.05
#: Samples farther than this many robust SDs from a fit are left out of it (current
#: artefacts of the spikes).
OUTLIER_FACTOR = 5.0
#: Shortest ramp, and shortest holding after it, in blocks of the coarse search.
MIN_RAMP_BLOCKS = 2


@dataclass(frozen=True)
class RampWindow:
    """One sweep's current ramp as the robust finder sees it.

    Attributes
    ----------
    ton, toff : float
        Where the ramp leaves the holding level, and the first time after it (ms).
    amp : float
        The ramp's height at its end above the holding level (nA; negative for a
        falling ramp).
    noise : float
        Robust standard deviation of the filtered current around the fitted ramp (nA).
    clear : bool
        Whether the ramp stands out clearly (see the module docstring).
    reason : str or None
        Why the ramp is not clear (None when it is).
    """

    ton: float
    toff: float
    amp: float
    noise: float
    clear: bool
    reason: str | None = None


def _coarse_ramp(blocks: np.ndarray) -> tuple[int, int]:
    """Find ``(a, b)``: the block ramp ``[a, b)`` maximising explained variance.

    The model is ``h + s * (k - a)`` for ``a <= k < b`` and ``h`` elsewhere; for each
    window the explained sum of squares of this one-regressor fit is
    ``Sxy^2 / Sxx`` with centred sums, all from cumulative sums.
    """
    m = blocks.size
    y = blocks - blocks.mean()
    k = np.arange(m, dtype=float)
    sum_y = np.concatenate(([0.0], np.cumsum(y)))
    sum_ky = np.concatenate(([0.0], np.cumsum(k * y)))
    a = np.arange(m + 1)[:, None]
    b = np.arange(m + 1)[None, :]
    n = (b - a).astype(float)
    sum_x = n * (n - 1.0) / 2.0
    sum_xx = (n - 1.0) * n * (2.0 * n - 1.0) / 6.0
    # sum over the ramp of (k - a) * y_k; y is centred, so this is Sxy
    sxy = (sum_ky[None, :] - sum_ky[:, None]) - a * (sum_y[None, :] - sum_y[:, None])
    sxx = sum_xx - sum_x**2 / m
    valid = (n >= MIN_RAMP_BLOCKS) & (sxx > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        score = np.where(valid, sxy**2 / sxx, -1.0)
    return divmod(int(np.argmax(score)), m + 1)


def _not_clear(why: str, noise: float = 0.0) -> RampWindow:
    return RampWindow(0.0, 0.0, 0.0, noise, False, why)


def find_ramp(current: np.ndarray, dt: float) -> RampWindow | None:
    """Find the best current ramp of a sweep, or None for a too short trace.

    Parameters
    ----------
    current : numpy.ndarray
        The current (nA).
    dt : float
        Sampling interval (ms).

    Returns
    -------
    RampWindow or None
        None when the trace has fewer than ``4 * MIN_RAMP_BLOCKS`` samples; a window
        that is not ``clear`` says why in ``reason``.
    """
    current = np.asarray(current, dtype=float)
    n = current.size
    if n < 4 * MIN_RAMP_BLOCKS:
        return None
    if not np.all(np.isfinite(current)):
        return _not_clear("the current holds NaN or infinite values")
    smooth, size, blocks = coarse_blocks(current)
    if np.ptp(blocks) == 0:
        return _not_clear("the current is flat: there is no ramp")
    a, b = _coarse_ramp(blocks)
    on, off, amp, noise, clear, reason = _fit(current, smooth, a * size, b * size, size)
    return RampWindow(on * dt, off * dt, amp, noise, clear, reason)


def _robust_mean(values: np.ndarray) -> float:
    """Mean of the values within :data:`OUTLIER_FACTOR` robust SDs of the median."""
    centre, spread = float(np.median(values)), robust_std(values)
    kept = values[np.abs(values - centre) <= OUTLIER_FACTOR * spread]
    return float(np.mean(kept)) if kept.size else centre


def _robust_line(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Least-squares line, refitted without the points beyond the outlier factor."""
    slope, intercept = np.polyfit(x, y, 1)
    residual = y - (slope * x + intercept)
    kept = np.abs(residual) <= OUTLIER_FACTOR * robust_std(residual)
    if 2 <= kept.sum() < kept.size:
        slope, intercept = np.polyfit(x[kept], y[kept], 1)
    return float(slope), float(intercept)


def _line_and_holding(
    values: np.ndarray, start: int, stop: int, span: int
) -> tuple[float, float, float]:
    """``(slope, intercept, holding)`` of the ramp ``[start, stop)`` in ``values``.

    The line is fitted away from the edges (``span`` samples), the holding level
    taken outside them (near them when nothing else is left).
    """
    inside = np.arange(start + span, stop - span)
    if inside.size < 2:
        inside = np.arange(start, stop)
    slope, intercept = _robust_line(inside.astype(float), values[inside])
    outside = np.concatenate((values[: max(0, start - span)], values[stop + span :]))
    if outside.size == 0:
        outside = np.concatenate((values[:start], values[stop:]))
    holding = _robust_mean(outside) if outside.size else float(values[-1])
    return slope, intercept, holding


def _fit(
    current: np.ndarray, smooth: np.ndarray, start: int, stop: int, size: int
) -> tuple[float, int, float, float, bool, str | None]:
    """Refine the coarse ramp ``[start, stop)`` (samples) at full resolution.

    Returns ``(on, off, amp, noise, clear, reason)``, ``on`` and ``off`` in samples.
    The end is found on the filtered current; the line and the holding level on the
    raw one (no filter's loss: the onset comes from all their samples).
    """
    span = 2 * size + 1
    slope, intercept, holding = _line_and_holding(smooth, start, stop, span)
    top = slope * stop + intercept - holding
    signed = np.sign(top) * (smooth - holding)
    off = refine_edge(signed, abs(top) / 2, stop, span, rising=False)
    slope, intercept, holding = _line_and_holding(current, start, off, span)
    on = (holding - intercept) / slope if slope else float(start)
    on = float(np.clip(on, 0.0, off))
    amp = float(slope * off + intercept - holding)
    first = int(np.ceil(on))
    inner = smooth[first:off] - (slope * np.arange(first, off) + intercept)
    outer = np.concatenate((smooth[:first], smooth[off:])) - holding
    noise = max(robust_std(inner), robust_std(outer))
    clear, reason = _judge(amp, noise, inner, outer, smooth.size - off, size)
    return on, off, amp, noise, clear, reason


def _judge(
    amp: float,
    noise: float,
    inner: np.ndarray,
    outer: np.ndarray,
    after: int,
    size: int,
) -> tuple[bool, str | None]:
    """Return ``(clear, reason)`` for a fitted ramp (see the module docstring)."""
    level = abs(amp) / 4
    stray = max(fraction_beyond(inner, level), fraction_beyond(outer, level))
    if stray >= MAX_STRAY_FRACTION:
        return False, (
            "the current is not one linear ramp from a holding level (a step, a "
            "chirp, noise or several ramps?)"
        )
    if abs(amp) <= CLEAR_RAMP_FACTOR * noise:
        return False, (
            f"no ramp stands out of the noise (height {amp:.3g} nA, noise "
            f"{noise:.2g} nA)"
        )
    if inner.size < MIN_RAMP_BLOCKS * size:
        return False, "the ramp found is too short to be a ramp"
    if after < MIN_RAMP_BLOCKS * size:
        return False, (
            "the current ramp does not return to its holding level before the trace "
            "ends (where the ramp stops cannot be told)"
        )
    return True, None
