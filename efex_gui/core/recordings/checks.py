"""Scientific guards: where BluePyEfe silently computes wrong numbers, say so.

Pure functions on values already in memory. Each returns a message (or None, or a
list of messages) in words a user can act on; the callers (``Recording``, ``Cell``,
the eCodes) put them in ``recording.warnings`` / ``cell.warnings``. **No guard changes a
number**: the outputs stay BluePyEfe's, the warnings say which ones to distrust.

Guards
------
* :func:`rheobase_warning` — a negative or NaN rheobase;
* :func:`step_timing_warning` — a step found at the first or last samples (a failed
  detection: ton = 2 ms without an edge, toff at the end);
* :func:`baseline_warning` — a baseline above the spike threshold (spikes cannot be
  counted, e.g. an NWB file at −15 mV with a −20 mV threshold);
* :func:`clipping_warning` — a saturated voltage (a flat run at the extreme value);
* :func:`voltage_range_warning` — a voltage outside −150…+80 mV (units or ljp wrong);
* :func:`check_sampling_metadata` — refuses a metadata ``dt`` <= 0 (an error, not a
  warning: nothing sensible can be computed);
* :func:`unit_warnings` — declared units that do not fit the values (V labelled mV,
  A labelled pA), with the unit that would fit
  (:mod:`efex_gui.core.recordings.unit_checks`).

:func:`recording_warnings` runs the trace guards on one recording (and
:func:`guard_recording` stores them on it), and
:func:`collect_warnings` gathers every cell's and sweep's warnings for a summary.
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING, Any

import numpy as np

from efex_gui.core.errors import EfexError, MetadataError
from efex_gui.core.recordings.unit_checks import check_units
from efex_gui.core.units import current_factor_to_na, voltage_factor_to_mv

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

#: plausible membrane potentials (mV), after unit conversion and ljp
VOLTAGE_RANGE_MV = (-150.0, 80.0)
#: a step closer than this to the trace's edges (ms) was not detected
EDGE_MS = 2.0
#: a flat run at the extreme value at least this long (ms, and samples) is clipping
CLIP_MIN_MS = 1.0
CLIP_MIN_SAMPLES = 10
#: a current peak below this (nA) is a unit error, not a 0 pA sweep's noise
CURRENT_FLOOR_NA = 1e-10

__all__ = [
    "baseline_warning",
    "check_sampling_metadata",
    "clipping_warning",
    "collect_warnings",
    "format_warnings",
    "guard_recording",
    "recording_warnings",
    "rheobase_warning",
    "step_timing_warning",
    "unit_warnings",
    "voltage_range_warning",
]


def _real(value: Any) -> float | None:
    """``float(value)``, or None when it is not a number."""
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def check_sampling_metadata(config_data: Mapping[str, Any], where: str) -> None:
    """Refuse a files_metadata ``dt`` that is not a positive finite number.

    The metadata's ``dt`` wins over the file's; 0 makes every time 0 and the step
    detection divide by zero (BluePyEfe crashes with an ``OverflowError``).

    Raises
    ------
    MetadataError
        Naming the value and ``where`` (the file).
    """
    dt = config_data.get("dt")
    if dt is None:
        return
    value = _real(dt)
    if value is None or not np.isfinite(value) or value <= 0:
        raise MetadataError(
            f"The metadata dt={dt!r} of file {where} is not a positive sampling "
            "interval (in t_unit)."
        )


def rheobase_warning(rheobase: Any) -> str | None:
    """Warn of a NaN or negative rheobase (nA); None otherwise.

    BluePyEfe keeps both: a NaN makes every relative amplitude NaN (the cell matches
    no target) and a negative one flips the sign of the relative amplitudes.
    """
    value = _real(rheobase)
    if value is None:
        return None
    if np.isnan(value):
        return (
            "the rheobase is NaN: every relative amplitude is NaN and the cell "
            "matches no target."
        )
    if value < 0:
        return (
            f"the rheobase is negative ({value:.4g} nA): relative amplitudes flip "
            "sign. A sweep at negative current was counted as spiking; check its "
            "spike detection (Threshold) or the rheobase protocols."
        )
    return None


def step_timing_warning(ton: Any, toff: Any, tend: Any, dt: Any) -> str | None:
    """Warn when the stimulus starts or ends at the trace's edges (ms); None otherwise.

    A step that starts within :data:`EDGE_MS` of the first sample (BluePyEfe's
    detection without an edge puts ``ton`` at 2 ms) leaves no baseline before it, and
    one that ends within :data:`EDGE_MS` of the end leaves no recovery: the step was
    most likely not detected, and baseline or after-step features are wrong.
    """
    ton, toff, tend, dt = (_real(v) for v in (ton, toff, tend, dt))
    if None in (ton, toff, tend, dt) or not np.isfinite([ton, toff, tend, dt]).all():
        return None
    margin = EDGE_MS + dt
    edges = []
    if ton <= margin:
        edges.append(f"starts at {ton:g} ms, the first samples")
    if toff >= tend - margin:
        edges.append(f"ends at {toff:g} ms of {tend:g} ms, the last samples")
    if not edges:
        return None
    return (
        f"the stimulus {' and '.join(edges)}: the step was probably not detected "
        "(no baseline or no recovery around it). Give ton and toff (ms) in the "
        "files_metadata of this file."
    )


def baseline_warning(voltage: Any, idx_ton: int, threshold: Any) -> str | None:
    """Warn when the pre-stimulus baseline is above the spike threshold (mV).

    Above the threshold, efel sees the whole trace as "above": spikes cannot be
    counted, so spike counts, the rheobase and spike features are meaningless.
    """
    threshold = _real(threshold)
    if threshold is None or np.isnan(threshold) or idx_ton <= 0:
        return None
    before = np.asarray(voltage[:idx_ton], dtype=float)
    before = before[np.isfinite(before)]
    if not before.size:
        return None
    base = float(np.median(before))
    if base <= threshold:
        return None
    return (
        f"baseline above spike threshold, spikes cannot be counted: the baseline "
        f"voltage ({base:.2f} mV) is above the spike threshold ({threshold:.2f} mV). "
        "Check v_unit, ljp or the efel setting Threshold."
    )


def _longest_run(mask: np.ndarray) -> int:
    """Length of the longest run of True in a boolean array."""
    if not mask.any():
        return 0
    edges = np.diff(np.concatenate(([0], mask.view(np.int8), [0])))
    return int((np.flatnonzero(edges == -1) - np.flatnonzero(edges == 1)).max())


def clipping_warning(voltage: Any, dt: Any) -> str | None:
    """Warn when the voltage is flat at its maximum or minimum (saturation).

    A run of at least :data:`CLIP_MIN_MS` (and :data:`CLIP_MIN_SAMPLES` samples) at
    exactly the extreme value means the amplifier or the digitiser saturated: spike
    peaks, amplitudes and the voltage base are cut. Real recordings have noise, so
    their extreme values last a few samples at most.
    """
    values = np.asarray(voltage, dtype=float)
    dt = _real(dt)
    if values.size < 2 or dt is None or not dt > 0:
        return None
    low, high = float(np.min(values)), float(np.max(values))
    if not np.isfinite([low, high]).all() or low == high:
        return None
    needed = max(CLIP_MIN_SAMPLES, int(np.ceil(CLIP_MIN_MS / dt)))
    for name, extreme in (("maximum", high), ("minimum", low)):
        at_extreme = values == extreme
        if np.count_nonzero(at_extreme) < needed:
            continue
        run = _longest_run(at_extreme)
        if run >= needed:
            return (
                f"the voltage is flat at its {name} ({extreme:.4g} mV) for "
                f"{run * dt:.3g} ms: the recording looks clipped or saturated, "
                "and spike heights and voltage levels are cut."
            )
    return None


def voltage_range_warning(voltage: Any) -> str | None:
    """Warn when the voltage (mV) leaves :data:`VOLTAGE_RANGE_MV`; None otherwise."""
    values = np.asarray(voltage, dtype=float)
    if not values.size:
        return None
    low, high = float(np.nanmin(values)), float(np.nanmax(values))
    if VOLTAGE_RANGE_MV[0] <= low and high <= VOLTAGE_RANGE_MV[1]:
        return None
    return (
        f"the voltage spans {low:.4g} to {high:.4g} mV, outside the plausible "
        f"{VOLTAGE_RANGE_MV[0]:g} to +{VOLTAGE_RANGE_MV[1]:g} mV: check v_unit, ljp "
        "and that this channel is the membrane potential."
    )


def unit_warnings(voltage: Any, current: Any, v_unit: Any, i_unit: Any) -> list[str]:
    """Messages for declared units that do not fit the values, as read.

    Wraps :func:`efex_gui.core.recordings.unit_checks.check_units`: a voltage that is
    below 1 mV in magnitude once converted "looks like V", a current 1000× off looks
    like the neighbouring unit.
    """
    if not isinstance(v_unit, str) or not isinstance(i_unit, str):
        return []
    if current is None or np.ndim(current) == 0:
        current = np.zeros(1)
    # a unit error is a factor of 1000: a thousand samples tell it as well
    voltage, current = _thin(voltage), _thin(current)
    if _plainly_plausible(voltage, current, v_unit, i_unit):
        return []
    return [
        f"{item.message}: the numbers are computed with {item.declared!r} as given; "
        f"fix {'v_unit' if item.quantity == 'voltage' else 'i_unit'} if it is wrong."
        for item in check_units(voltage, current, v_unit, i_unit)
        if item.quantity == "voltage" or not _tiny_but_plausible(current, i_unit)
    ]


def _plainly_plausible(voltage: Any, current: Any, v_unit: str, i_unit: str) -> bool:
    """Take a cheap first look (mean |V|, max |I|) that clears most sweeps at once.

    Only sweeps it does not clear go through the slower ``check_units``, which
    decides (median |V|, percentiles of I).
    """
    try:
        v_mv = float(np.mean(np.abs(voltage))) * voltage_factor_to_mv(v_unit)
        i_na = float(np.max(np.abs(current))) * current_factor_to_na(i_unit)
    except (EfexError, ValueError, TypeError):
        return False
    return bool(2.0 <= v_mv <= 500.0 and (i_na == 0 or 2e-3 <= i_na <= 50.0))


def _thin(values: Any, n_max: int = 1024) -> np.ndarray:
    """Every k-th sample, so that at most about ``n_max`` remain."""
    array: np.ndarray = np.asarray(values)
    return array[:: max(1, len(array) // n_max)] if array.ndim == 1 else array


def _tiny_but_plausible(current: Any, i_unit: str) -> bool:
    """Whether a current is small but above :data:`CURRENT_FLOOR_NA` once converted.

    A 0 pA sweep holds only noise (a few fA), too small for ``check_units`` but not a
    unit error; a current in A labelled pA is ~1e-13 nA.
    """
    values = np.asarray(current, dtype=float)
    values = values[np.isfinite(values)]
    try:
        factor = current_factor_to_na(i_unit)
    except EfexError:
        return False
    peak = float(np.max(np.abs(np.percentile(values, [0.5, 99.5])))) * factor
    return CURRENT_FLOOR_NA <= peak <= 1.0


def _declared(recording: Any, key: str) -> Any:
    config = recording.config_data or {}
    reader = recording.reader_data or {}
    return config.get(key) or reader.get(key)


def recording_warnings(recording: Any) -> list[str]:
    """Run the trace guards on one recording just built from a reader's trace.

    Parameters
    ----------
    recording : Recording
        With ``voltage`` (mV), ``dt`` or ``t`` (ms), ``reader_data`` (the trace as
        read) and, for eCodes with a stimulus window, ``ton``/``toff``/``tend`` (ms).

    Returns
    -------
    list of str
        The messages, in a stable order (units, range, clipping, timing).
    """
    if getattr(recording, "voltage", None) is None:
        return []
    reader = recording.reader_data or {}
    messages = []
    if "voltage" in reader:
        messages += unit_warnings(
            reader["voltage"],
            reader.get("current"),
            _declared(recording, "v_unit"),
            _declared(recording, "i_unit"),
        )
    dt = getattr(recording, "dt", None)
    if _real(dt) is None and recording.t is not None and len(recording.t) > 1:
        dt = recording.t[1] - recording.t[0]
    timing = None
    if getattr(recording, "is_step", False) and not any(
        "ton" in m and "toff" in m for m in recording.warnings
    ):
        timing = step_timing_warning(
            getattr(recording, "ton", None),
            getattr(recording, "toff", None),
            getattr(recording, "tend", None),
            dt,
        )  # else the eCode already said that its step detection failed
    for message in (
        voltage_range_warning(recording.voltage),
        clipping_warning(recording.voltage, dt),
        timing,
    ):
        if message:
            messages.append(message)
    return messages


def guard_recording(recording: Any) -> Any:
    """Add :func:`recording_warnings` to ``recording.warnings`` (logged at INFO).

    Called wherever a recording is built from a reader's trace (``Cell``, the GUI's
    loading); returns the recording.
    """
    for message in recording_warnings(recording):
        recording.warn(message, logging.INFO)
    return recording


def collect_warnings(cells: Iterable[Any]) -> dict[str, list[str]]:
    """Every warning of every cell and of its recordings, by cell name.

    Recording warnings are prefixed with ``[protocol sweep]``. Cells without any
    warning are left out.
    """
    out: dict[str, list[str]] = {}
    for cell in cells:
        messages = list(getattr(cell, "warnings", []))
        for recording in getattr(cell, "recordings", []):
            where = f"{recording.protocol_name} {recording.name}".strip()
            messages += [f"[{where}] {m}" for m in getattr(recording, "warnings", [])]
        if messages:
            out[str(cell.name)] = messages
    return out


_WHERE = re.compile(r"^\[(?P<where>[^\]]*)\] (?P<message>.*)$", re.DOTALL)
_NUMBER = re.compile(r"[-+]?\d+(?:\.\d+)?(?:e[-+]?\d+)?")


def format_warnings(warnings: dict[str, Sequence[str]], limit: int = 5) -> list[str]:
    """Summary lines: per cell, its number of warnings and the first ``limit`` kinds.

    Messages that differ only by their numbers and sweep are one kind, shown once
    (its first occurrence) with the number of sweeps it concerns.
    """
    lines = []
    for cell, messages in warnings.items():
        kinds: dict[str, list[str]] = {}
        for message in messages:
            match = _WHERE.match(message)
            text = match["message"] if match else message
            kinds.setdefault(_NUMBER.sub("#", text), []).append(message)
        lines.append(f"  {cell}: {len(messages)} warning(s)")
        for same in list(kinds.values())[:limit]:
            more = f" (and {len(same) - 1} more like it)" if len(same) > 1 else ""
            lines.append(f"    - {same[0]}{more}")
        if len(kinds) > limit:
            lines.append(f"    ... {len(kinds) - limit} more kinds")
    return lines
