"""Automatic sweep QC: measures taken when a sweep is read, flags given per cell.

Two steps, so that the traces can be dropped in between:

1. :func:`sweep_measures` — cheap numbers of one sweep (noise RMS, Vm delta, baseline,
   holding, clipping run, line-noise amplitude, spike peak, own-step disagreement),
   computed once its stimulus window is final (after the protocol consensus); kept on
   the recording as ``qc_measures``, which survives ``drop_traces``;
2. :func:`evaluate_cell` — the flags of a cell's sweeps from their measures and the
   :class:`~efex_gui.core.recordings.qc_settings.QCSettings`: the per-sweep checks
   compare a measure with its threshold, the cell checks compare a sweep with the
   cell's other sweeps (baseline, holding, spike-height rundown, amplitude series).

A check whose measure cannot be taken on a sweep (too short, no pre-stimulus period,
no spike) is *not applicable* (value None), never an error. QC never excludes.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from efex_gui.core.recordings.qc_settings import CHECKS, QCSettings
from efex_gui.core.recordings.step_window import find_step

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

__all__ = [
    "QC_MEASURES",
    "QCResult",
    "SweepMeasures",
    "evaluate_cell",
    "evaluate_recordings",
    "flagged",
    "measure",
    "sweep_measures",
]

#: IPFX's noise epochs (ms): 1.5 ms at the start and end, 500 ms before the stimulus.
NOISE_EPOCH_MS = 1.5
SLOW_EPOCH_MS = 500.0
#: Shortest pre-/post-stimulus period (ms) the slow noise and Vm delta are taken on.
MIN_EPOCH_MS = 10.0
#: Shortest period (ms) the line-noise amplitude is measured on (5 cycles of 50 Hz).
LINE_EPOCH_MS = 100.0
LINE_FREQUENCIES_HZ = (50.0, 60.0)
#: A sweep "spikes" for the rundown check when its window peaks above this (mV).
SPIKE_PEAK_MV = -10.0
#: Sweeps a cell needs for its cell-level comparisons; first spiking sweeps averaged.
MIN_CELL_SWEEPS = 3
REFERENCE_SPIKING_SWEEPS = 3
#: A protocol needs this many distinct amplitude steps for the series check.
MIN_SERIES_STEPS = 3


#: the names of a sweep's QC measures (see :func:`sweep_measures`), in their order
QC_MEASURES = (
    "pre_noise_rms",
    "post_noise_rms",
    "slow_noise_rms",
    "vm_delta",
    "clipping",
    "line_noise",
    "window_disagreement",
    "baseline_vm",
    "holding",
    "spike_peak",
    "amp",
)
_POSITION = {name: i for i, name in enumerate(QC_MEASURES)}


class SweepMeasures(Mapping[str, "float | None"]):
    """A sweep's QC measures by name, read-only (see :func:`sweep_measures`).

    Every sweep read keeps its measures: they are packed in one bytes object (a
    mask of the measures that are None, then eleven doubles in :data:`QC_MEASURES`
    order), 0.1 kB a sweep. A dict of eleven entries took 0.6 kB, a tuple of eleven
    floats 0.4 kB. Equal to the dict of the same items; pickled as that dict.
    """

    __slots__ = ("_packed",)

    def __init__(self, values: Mapping[str, float | None]) -> None:
        self._packed = _pack(values)

    def __getitem__(self, name: str) -> float | None:
        position = _POSITION[name]
        packed = self._packed
        if (packed[0] | packed[1] << 8) >> position & 1:
            return None
        value: float = _DOUBLE.unpack_from(packed, _MASK_BYTES + 8 * position)[0]
        return value

    def __iter__(self) -> Iterator[str]:
        return iter(QC_MEASURES)

    def __len__(self) -> int:
        return len(QC_MEASURES)

    def __repr__(self) -> str:
        return f"SweepMeasures({dict(self)!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickle as ``SweepMeasures(dict)``: the pickle does not hold the packing."""
        return (type(self), (dict(self),))

    def __setstate__(self, state: Any) -> None:
        """Restore a pickle of the tuple-backed version (``_values``)."""
        slots = state[1] if isinstance(state, tuple) else state
        self._packed = _pack(dict(zip(QC_MEASURES, slots["_values"], strict=True)))


#: a :class:`SweepMeasures` pack: the None mask, then one double per measure
_MASK_BYTES = 2
_PACKED = struct.Struct(f"<H{len(QC_MEASURES)}d")
_DOUBLE = struct.Struct("<d")


def _pack(values: Mapping[str, float | None]) -> bytes:
    """Pack measures by name (missing: None) as :class:`SweepMeasures` holds them."""
    items = [values.get(name) for name in QC_MEASURES]
    mask = sum(1 << i for i, value in enumerate(items) if value is None)
    numbers = (0.0 if value is None else float(value) for value in items)
    return _PACKED.pack(mask, *numbers)


@dataclass(frozen=True, slots=True)
class QCResult:
    """One check on one sweep (slots: eleven per sweep read, kept for the browser).

    Attributes
    ----------
    check : str
        The check's name (:data:`~efex_gui.core.recordings.qc_settings.CHECKS`).
    value : float or None
        The measured value, None when the check does not apply to the sweep.
    threshold : float
        The threshold in force.
    """

    check: str
    value: float | None
    threshold: float

    @property
    def flagged(self) -> bool:
        """Whether the value exceeds the threshold."""
        return self.value is not None and self.value > self.threshold

    @property
    def applicable(self) -> bool:
        """Whether the check could be made on the sweep."""
        return self.value is not None


def _samples(ms: float, dt: float) -> int:
    return int(round(ms / dt))


def _rms(values: np.ndarray, detrend: bool = False) -> float | None:
    """RMS around the mean (``detrend``: around a straight line) of ``values``."""
    if values.size < 3:
        return None
    if detrend:
        x = np.arange(values.size, dtype=float)
        values = values - np.polyval(np.polyfit(x, values, 1), x)
    return float(np.std(values))


def _longest_run_at_extremes(values: np.ndarray) -> float:
    """Longest run of consecutive samples equal to the trace's max or min."""
    best = 0
    for extreme in (np.max(values), np.min(values)):
        at = np.concatenate(([0], (values == extreme).astype(np.int8), [0]))
        edges = np.flatnonzero(np.diff(at))
        if edges.size:
            best = max(best, int(np.max(edges[1::2] - edges[::2])))
    return float(best)


def _clipping(voltage: np.ndarray) -> float | None:
    """Measure the clipping run, or return None for a noiseless trace.

    Noiseless: most samples repeat (a simulated or hand-made file, where every plateau
    would look clipped).
    """
    if voltage.size < 3 or np.median(np.abs(np.diff(voltage))) == 0:
        return None
    return _longest_run_at_extremes(voltage)


def _line_amplitude(values: np.ndarray, dt: float) -> float | None:
    """Largest amplitude (mV) of a 50 or 60 Hz sine in ``values`` (detrended)."""
    n = values.size
    if n * dt < LINE_EPOCH_MS:
        return None
    t = np.arange(n) * dt / 1000.0
    detrended = values - np.polyval(np.polyfit(t, values, 1), t)
    return max(
        float(2.0 / n * abs(np.sum(detrended * np.exp(-2j * np.pi * f * t))))
        for f in LINE_FREQUENCIES_HZ
    )


def _epochs(recording: Any, trace: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``trace`` before the stimulus (≤ 500 ms) and in the post-stimulus tail.

    The tail is the second half of what follows the stimulus (the membrane has
    relaxed), at most 500 ms.
    """
    dt = float(recording.dt)
    on = min(max(_samples(recording.ton, dt), 0), trace.size)
    off = min(max(_samples(recording.toff, dt), on), trace.size)
    pre = trace[max(0, on - _samples(SLOW_EPOCH_MS, dt)) : on]
    tail = trace[off:]
    post = tail[tail.size // 2 :][-_samples(SLOW_EPOCH_MS, dt) :]
    return pre, post


def _is_step(recording: Any) -> bool:
    from efex_gui.core.recordings.ecodes import Step

    return type(recording) is Step


def _own_disagreement(recording: Any) -> float | None:
    """Distance (ms) of the sweep's own clear step from the window in use.

    Whatever the window's source: a consensus, the person's window or the file's
    that misses the sweep's step is flagged alike (Step sweeps only).
    """
    if not _is_step(recording):
        return None
    own = getattr(recording, "own_window", None)
    if own is None:
        own = find_step(recording.current, float(recording.dt))
        recording.own_window = own
    if own is None or not own.clear:
        return None
    return float(max(abs(own.ton - recording.ton), abs(own.toff - recording.toff)))


def sweep_measures(recording: Any) -> SweepMeasures:
    """Take the per-sweep QC measures of a recording with its traces (None: n/a).

    Keys: the per-sweep checks' names, plus ``baseline_vm`` and ``holding`` (median
    voltage and current before the stimulus), ``spike_peak`` and ``amp`` (Step
    sweeps only) used by the cell checks. The 1.5 ms noise epochs are detrended
    (a short trace's end is still relaxing from the step).
    """
    dt = float(recording.dt)
    voltage = np.asarray(recording.voltage, dtype=float)
    current = np.asarray(recording.current, dtype=float)
    edge = _samples(NOISE_EPOCH_MS, dt)
    pre, post = _epochs(recording, voltage)
    pre_current, _ = _epochs(recording, current) if current.ndim else (pre[:0], None)
    long_enough = pre.size * dt >= MIN_EPOCH_MS
    ends = post.size * dt >= MIN_EPOCH_MS
    step = _is_step(recording)
    window = voltage[_samples(recording.ton, dt) : _samples(recording.toff, dt)]
    peak = float(np.max(window)) if window.size and step else None
    line = _line_amplitude(pre, dt)
    if line is None:
        line = _line_amplitude(post, dt)
    return SweepMeasures(
        {
            "pre_noise_rms": _rms(voltage[:edge], detrend=True)
            if recording.ton >= NOISE_EPOCH_MS
            else None,
            "post_noise_rms": _rms(voltage[-edge:], detrend=True)
            if recording.tend - recording.toff >= NOISE_EPOCH_MS
            else None,
            "slow_noise_rms": _rms(pre) if long_enough else None,
            "vm_delta": float(abs(np.mean(pre) - np.mean(post)))
            if long_enough and ends
            else None,
            "clipping": _clipping(voltage),
            "line_noise": line,
            "window_disagreement": _own_disagreement(recording),
            "baseline_vm": float(np.median(pre)) if long_enough else None,
            "holding": float(np.median(pre_current))
            if long_enough and pre_current.size
            else None,
            "spike_peak": peak if peak is not None and peak > SPIKE_PEAK_MV else None,
            "amp": None if recording.amp is None or not step else float(recording.amp),
        }
    )


def _offsets(values: Sequence[float | None]) -> list[float | None]:
    """|value - median of the values| (None where the value is None or too few)."""
    known = [v for v in values if v is not None]
    if len(known) < MIN_CELL_SWEEPS:
        return [None] * len(values)
    centre = float(np.median(known))
    return [None if v is None else abs(v - centre) for v in values]


def _rundown(peaks: Sequence[float | None]) -> list[float | None]:
    """Drop of each spiking sweep's peak below the cell's first spiking sweeps."""
    spiking = [p for p in peaks if p is not None]
    if len(spiking) < 2:
        return [None] * len(peaks)
    reference = float(np.median(spiking[:REFERENCE_SPIKING_SWEEPS]))
    return [None if p is None else max(0.0, reference - p) for p in peaks]


def _series_residuals(amps: Sequence[float | None]) -> list[float | None]:
    """Distance (in steps) of each amplitude from the protocol's amplitude grid."""
    known = np.array([a for a in amps if a is not None], dtype=float)
    steps = np.diff(np.unique(np.round(known, 4)))
    steps = steps[steps > 1e-3]
    if steps.size < MIN_SERIES_STEPS:
        return [None] * len(amps)
    step = float(np.median(steps))
    if np.mean(np.abs(steps - step) <= 0.25 * step) < 0.6:
        return [None] * len(amps)  # no regular series: the check does not apply
    phase = float(np.angle(np.mean(np.exp(2j * np.pi * known / step))))
    out: list[float | None] = []
    for a in amps:
        if a is None:
            out.append(None)
            continue
        turns = (2 * np.pi * a / step - phase) / (2 * np.pi)
        out.append(float(abs(turns - np.round(turns))))
    return out


def _cell_values(
    measures: Sequence[Mapping[str, float | None]], protocols: Sequence[str]
) -> dict[str, list[float | None]]:
    """Values of the cell checks; holding and amplitude series per protocol."""
    values: dict[str, list[float | None]] = {
        "baseline_vm_offset": _offsets([m.get("baseline_vm") for m in measures]),
        "holding_change": [None] * len(measures),
        "spike_rundown": _rundown([m.get("spike_peak") for m in measures]),
        "amplitude_series": [None] * len(measures),
    }
    for protocol in dict.fromkeys(protocols):
        index = [i for i, p in enumerate(protocols) if p == protocol]
        per_protocol = {
            "holding_change": _offsets([measures[i].get("holding") for i in index]),
            "amplitude_series": _series_residuals(
                [measures[i].get("amp") for i in index]
            ),
        }
        for name, found in per_protocol.items():
            for i, value in zip(index, found, strict=True):
                values[name][i] = value
    return values


def evaluate_cell(
    measures: Sequence[Mapping[str, float | None] | None],
    protocols: Sequence[str],
    settings: QCSettings | None = None,
) -> list[list[QCResult]]:
    """Evaluate the QC of a cell's sweeps, in the order given (acquisition order).

    Parameters
    ----------
    measures : sequence of dict or None
        Each sweep's :func:`sweep_measures` (None: not measured, every check n/a).
    protocols : sequence of str
        Each sweep's protocol (the amplitude series is checked per protocol).
    settings : QCSettings, optional
        Switches and thresholds (default: the defaults).

    Returns
    -------
    list of list of QCResult
        Per sweep, one result per enabled check.
    """
    settings = settings or QCSettings()
    filled = [m or {} for m in measures]
    cell_values = _cell_values(filled, protocols)
    results: list[list[QCResult]] = []
    for i, sweep in enumerate(filled):
        row = []
        for check in CHECKS:
            if not settings.is_enabled(check.name):
                continue
            value = (
                cell_values[check.name][i]
                if check.name in cell_values
                else sweep.get(check.name)
            )
            row.append(QCResult(check.name, value, settings.threshold(check.name)))
        results.append(row)
    return results


def flagged(results: Sequence[QCResult]) -> list[QCResult]:
    """Return the results of a sweep that flag it."""
    return [r for r in results if r.flagged]


def _ordinal(recording: Any) -> float:
    """Return the acquisition number of a sweep (its file's ``ordinal``), else +inf."""
    try:
        ordinal: Any = (recording.config_data or {}).get("ordinal")
        return float(ordinal)
    except (TypeError, ValueError):
        return float("inf")


def measure(recording: Any) -> Mapping[str, float | None] | None:
    """Return the recording's ``qc_measures``, taken now if it still has its traces."""
    measures = getattr(recording, "qc_measures", None)
    if measures is None and getattr(recording, "voltage", None) is not None:
        measures = sweep_measures(recording)
        recording.qc_measures = measures
    return measures


def evaluate_recordings(
    recordings: Sequence[Any], settings: QCSettings | None = None
) -> list[list[QCResult]]:
    """Evaluate the QC of one cell's recordings, in the order given.

    The cell checks walk the sweeps in acquisition order (the files' ``ordinal``,
    then the order given). Recordings neither measured nor with traces get every
    check "not applicable".
    """
    order = sorted(range(len(recordings)), key=lambda i: (_ordinal(recordings[i]), i))
    ordered = [recordings[i] for i in order]
    results = evaluate_cell(
        [measure(r) for r in ordered], [r.protocol_name for r in ordered], settings
    )
    out: list[list[QCResult]] = [[] for _ in recordings]
    for position, index in enumerate(order):
        out[index] = results[position]
    return out
