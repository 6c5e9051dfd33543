"""Which clamp a recording was made in, and the refusal of voltage-clamp files (T11).

The formats that store the amplifier mode say it (HEKA ``TrRecordingMode``, NWB series
types, the ABF command DAC's unit); the others (WinWCP, ATF, text) only hold channels
with units. Two signs then tell voltage clamp from current clamp:

* no voltage channel at all, only currents (an ATF/ABF memtest): the membrane current
  of a voltage-clamp run;
* the voltage channel is a clean command: it jumps within one sample to a new level
  and stays flat on both sides of the jump. A current-clamp response never does that:
  the membrane charges over milliseconds after a current step, and a spike falls back
  within a few milliseconds.

Readers report the clamp of every trace in its ``clamp`` key ("current" or
"voltage") and refuse voltage-clamp files with
:class:`~efex_gui.core.errors.NotARecordingError`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from efex_gui.core.errors import NotARecordingError

if TYPE_CHECKING:
    from collections.abc import Sequence

#: the flat windows on each side of a command jump (ms)
FLAT_WINDOW_MS = 10.0
#: a command jump is this many times the sample-to-sample noise
JUMP_NOISE_FACTOR = 20.0
#: the spread of each flat side, as a fraction of the jump
FLAT_FRACTION = 0.2


def _noise(diff: np.ndarray) -> float:
    return float(1.4826 * np.median(np.abs(diff - np.median(diff))))


def is_command_like(values: np.ndarray, dt_ms: float) -> bool:
    """Whether a trace looks like a clamp command: a clean jump between flat levels.

    Parameters
    ----------
    values : numpy.ndarray
        One sweep of a channel.
    dt_ms : float
        The sampling interval (ms).

    Returns
    -------
    bool
        True when the largest sample-to-sample jump is far above the noise and the
        trace is flat for ``FLAT_WINDOW_MS`` on both sides of it.
    """
    values = np.asarray(values, dtype=np.float64)
    n = max(int(round(FLAT_WINDOW_MS / dt_ms)), 5)
    if values.size < 2 * n + 2:
        return False
    diff = np.diff(values)
    k = int(np.argmax(np.abs(diff)))
    jump = float(abs(diff[k]))
    if jump == 0 or jump < JUMP_NOISE_FACTOR * _noise(diff):
        return False
    before, after = values[max(k + 1 - n, 0) : k + 1], values[k + 1 : k + 1 + n]
    if before.size < n or after.size < n:
        return False
    flat = all(
        np.percentile(side, 95) - np.percentile(side, 5) < FLAT_FRACTION * jump
        for side in (before, after)
    )
    moved = abs(np.median(after) - np.median(before)) > (1 - FLAT_FRACTION) * jump
    return bool(flat and moved)


def voltage_is_clamped(sweeps: Sequence[np.ndarray], dt_ms: float) -> bool:
    """Whether most sweeps' voltage is a command (:func:`is_command_like`)."""
    if not sweeps:
        return False
    votes = [is_command_like(s, dt_ms) for s in sweeps]
    return sum(votes) > len(votes) / 2


def plural(n: int, word: str) -> str:
    """``"1 record"``, ``"11 records"``."""
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def refuse_voltage_clamp(path: str, n_sweeps: int, unit: str = "records") -> None:
    """Raise the voltage-clamp refusal: "voltage clamp: 11 records of membrane current".

    Raises
    ------
    NotARecordingError
        Always.
    """
    raise NotARecordingError(
        path,
        "voltage clamp",
        f"{plural(n_sweeps, unit.rstrip('s'))} of membrane current",
    )
