"""The cell summary: one row of classic measures per cell, from the curated sweeps.

:func:`summarize_cells` reads the cells the extraction built (exclusions, windows,
eCode overrides and rheobase overrides already applied) and computes, per cell:

* ``rheobase_nA``: the extraction's rheobase (same value, overrides included);
* ``input_resistance_MOhm``: slope of the steady-state deflection
  (``steady_state_voltage_stimend - voltage_base``) against the step amplitude over
  the hyperpolarising steps (a straight-line fit; one sweep: deflection / amplitude);
* ``rmp_mV``: mean pre-stimulus ``voltage_base`` (with the holding current applied);
* ``tau_ms``: median efel ``time_constant`` over the hyperpolarising steps;
* ``sag_ratio``: efel ``sag_ratio1`` ((V_min - V_ss) / (V_min - V_base) ... as efel
  defines it) at the most hyperpolarising step (mean over its repetitions);
* ``fi_slope_Hz_per_nA``: slope of the rate (spikes / stimulus duration) against the
  amplitude over the steps at or above the rheobase (at least two amplitudes);
* ``max_rate_Hz``: the highest rate of the f-I steps;
* ``ap_threshold_mV``, ``ap_amplitude_mV``, ``ap_width_ms``: efel
  ``AP_begin_voltage``, ``AP_amplitude`` and ``AP_duration_half_width`` of the first
  spike of the rheobase sweep (the lowest spiking step; its repetitions averaged).

Which protocols feed which measure is :class:`MeasureProtocols`. A measure without the
sweeps it needs is None with the reason (which protocol is missing); every measure
keeps the sweeps it came from, so a view can select them.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from efex_gui.core.analysis.protocol_map import (
    DEFAULT_MEASURE_PROTOCOLS,
    MeasureProtocols,
    matches_protocol,
)
from efex_gui.core.analysis.sweep_values import SweepValues, SweepValuesCache
from efex_gui.core.errors import Cancelled

if TYPE_CHECKING:
    from efex_gui.core.extraction.feature_store import FeatureStore

__all__ = [
    "MEASURES",
    "MEASURE_LABELS",
    "CellSummary",
    "Measure",
    "SummaryContext",
    "summarize_cell",
    "summarize_cells",
]

#: the measures, in column order (names carry their unit)
MEASURES: tuple[str, ...] = (
    "rheobase_nA",
    "input_resistance_MOhm",
    "rmp_mV",
    "tau_ms",
    "sag_ratio",
    "fi_slope_Hz_per_nA",
    "max_rate_Hz",
    "ap_threshold_mV",
    "ap_amplitude_mV",
    "ap_width_ms",
)

#: human labels (title, unit) of the measures
MEASURE_LABELS: dict[str, tuple[str, str]] = {
    "rheobase_nA": ("Rheobase", "nA"),
    "input_resistance_MOhm": ("Input resistance", "MΩ"),
    "rmp_mV": ("RMP", "mV"),
    "tau_ms": ("Tau", "ms"),
    "sag_ratio": ("Sag ratio", ""),
    "fi_slope_Hz_per_nA": ("f-I slope", "Hz/nA"),
    "max_rate_Hz": ("Max rate", "Hz"),
    "ap_threshold_mV": ("AP threshold", "mV"),
    "ap_amplitude_mV": ("AP amplitude", "mV"),
    "ap_width_ms": ("AP width", "ms"),
}

#: ``progress(done, total, message)``
Progress = Callable[[int, int, str], None]


@dataclass(frozen=True)
class Measure:
    """One value of the summary, the sweeps it came from, or why it is missing."""

    value: float | None
    sweeps: tuple[Any, ...] = ()
    reason: str | None = None

    @property
    def n(self) -> int:
        """How many sweeps the value came from (0 when missing)."""
        return len(self.sweeps) if self.value is not None else 0

    @property
    def note(self) -> str | None:
        """Why the value is missing, or that it comes from a single sweep."""
        if self.value is None:
            return self.reason
        if self.n == 1:
            return "from a single sweep"
        return None


@dataclass
class CellSummary:
    """The measures of one cell (see the module docstring)."""

    cell: str
    measures: dict[str, Measure] = field(default_factory=dict)

    def value(self, name: str) -> float | None:
        """Return the value of measure ``name`` (None when missing)."""
        measure = self.measures.get(name)
        return measure.value if measure is not None else None

    def to_json(self) -> dict[str, Any]:
        """``{measure: float | None, ..., "n": {measure: int}}``."""
        document: dict[str, Any] = {name: self.value(name) for name in MEASURES}
        document["n"] = {name: self.measures[name].n for name in MEASURES}
        return document


@dataclass
class SummaryContext:
    """What every cell's summary is computed with.

    Attributes
    ----------
    protocols : MeasureProtocols
        Which protocols feed which measure.
    protocols_rheobase : sequence of str
        The extraction's rheobase protocols (exact names).
    efel_settings : dict
        The extraction's global efel settings.
    cache : SweepValuesCache
        Per-sweep values, shared between runs.
    store : FeatureStore, optional
        The persistent cache of the thread the summary runs on: values found there
        are not computed, values computed are written there.
    cancel : object, optional
        Anything with ``is_set()``, checked before each sweep whose values are
        computed: a summary stops within one sweep (an extraction waiting for the
        same thread does not wait for a whole cell).
    """

    protocols: MeasureProtocols = DEFAULT_MEASURE_PROTOCOLS
    protocols_rheobase: Sequence[str] = ()
    efel_settings: dict[str, Any] = field(default_factory=dict)
    cache: SweepValuesCache = field(default_factory=SweepValuesCache)
    store: FeatureStore | None = None
    cancel: Any = None

    def sweeps(self, cell: Any, protocols: Iterable[str]) -> list[SweepValues]:
        """Return the values of the cell's sweeps of ``protocols`` (any case).

        An extraction's cells hold no traces (memory): only the sweeps whose values
        are neither cached nor stored are read back for efel, one file at a time
        (a cancel is seen within a file's sweeps).
        """
        wanted = tuple(protocols)
        chosen = [
            r for r in cell.recordings if matches_protocol(r.protocol_name, wanted)
        ]
        found = self.cache.values_of(
            chosen,
            self.efel_settings,
            store=self.store,
            before_read=self.check_cancelled,
        )
        return [values for values in found if values is not None]

    def check_cancelled(self) -> None:
        """Raise :class:`Cancelled` if the summary was asked to stop."""
        if self.cancel is not None and self.cancel.is_set():
            raise Cancelled("cell summary cancelled")


def _missing(protocols: Sequence[str], what: str = "sweeps") -> str:
    return f"no {' or '.join(protocols)} {what}"


def _finite(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None


def _hyperpolarising(sweeps: list[SweepValues], *features: str) -> list[SweepValues]:
    return [
        s
        for s in sweeps
        if s.amp_na < 0 and all(s.get(f) is not None for f in features)
    ]


def _slope(x: Sequence[float], y: Sequence[float]) -> float:
    """Least-squares slope of y on x; y/x through the origin when x has one value."""
    xs, ys = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if np.ptp(xs) <= 1e-12 * max(1.0, float(np.max(np.abs(xs)))):
        return float(np.sum(xs * ys) / np.sum(xs * xs))
    return float(np.polyfit(xs, ys, 1)[0])


def _rheobase(cell: Any, context: SummaryContext) -> Measure:
    protocols = list(context.protocols_rheobase)
    sweeps = tuple(r for r in cell.recordings if r.protocol_name in protocols)
    value = getattr(cell, "rheobase", None)
    value = _finite(float(value)) if value is not None else None
    if value is not None:
        return Measure(value, sweeps)
    if not sweeps:
        return Measure(None, reason=_missing(protocols or ["rheobase protocol"]))
    return Measure(None, reason=f"no spiking {' or '.join(protocols)} sweep")


def _input_resistance(cell: Any, context: SummaryContext) -> Measure:
    protocols = context.protocols.input_resistance
    all_sweeps = context.sweeps(cell, protocols)
    sweeps = _hyperpolarising(
        all_sweeps, "voltage_base", "steady_state_voltage_stimend"
    )
    if not sweeps:
        what = "hyperpolarising steps" if all_sweeps else "sweeps"
        return Measure(None, reason=_missing(protocols, what))
    deflections = [
        s.values["steady_state_voltage_stimend"] - s.values["voltage_base"]  # type: ignore[operator]
        for s in sweeps
    ]
    slope = _slope([s.amp_na for s in sweeps], deflections)
    if not slope > 0:  # a membrane cannot have one: the step windows are wrong
        return Measure(
            None,
            reason=f"the {'/'.join(protocols)} steps give a slope of {slope:.3g} MΩ "
            "(check their stimulus windows)",
        )
    return Measure(_finite(slope), tuple(s.recording for s in sweeps))


def _mean_of(
    sweeps: list[SweepValues], feature: str, protocols: Sequence[str], median: bool
) -> Measure:
    used = [s for s in sweeps if s.get(feature) is not None]
    if not used:
        return Measure(None, reason=_missing(protocols, f"sweeps with {feature}"))
    values = [float(s.values[feature]) for s in used]  # type: ignore[arg-type]
    value = float(np.median(values) if median else np.mean(values))
    return Measure(value, tuple(s.recording for s in used))


def _rmp(cell: Any, context: SummaryContext) -> Measure:
    protocols = context.protocols.rmp
    sweeps = context.sweeps(cell, protocols)
    if not sweeps:
        return Measure(None, reason=_missing(protocols))
    return _mean_of(sweeps, "voltage_base", protocols, median=False)


def _tau(cell: Any, context: SummaryContext) -> Measure:
    protocols = context.protocols.tau
    all_sweeps = context.sweeps(cell, protocols)
    sweeps = _hyperpolarising(all_sweeps)
    if not sweeps:
        what = "hyperpolarising steps" if all_sweeps else "sweeps"
        return Measure(None, reason=_missing(protocols, what))
    return _mean_of(sweeps, "time_constant", protocols, median=True)


def _sag(cell: Any, context: SummaryContext) -> Measure:
    protocols = context.protocols.sag
    all_sweeps = context.sweeps(cell, protocols)
    sweeps = _hyperpolarising(all_sweeps, "sag_ratio1")
    if not sweeps:
        what = "hyperpolarising steps" if all_sweeps else "sweeps"
        return Measure(None, reason=_missing(protocols, what))
    most = min(s.amp_na for s in sweeps)
    deepest = [s for s in sweeps if s.amp_na <= 0.95 * most]
    return _mean_of(deepest, "sag_ratio1", protocols, median=False)


def _fi_slope(cell: Any, context: SummaryContext, rheobase: float | None) -> Measure:
    protocols = context.protocols.fi
    sweeps = context.sweeps(cell, protocols)
    if not sweeps:
        return Measure(None, reason=_missing(protocols))
    if rheobase is None:
        return Measure(None, reason="no rheobase")
    above = [s for s in sweeps if s.amp_na >= rheobase - 1e-9 and s.duration_ms > 0]
    amplitudes = {round(s.amp_na, 4) for s in above}
    if len(amplitudes) < 2:
        return Measure(
            None, reason=f"fewer than 2 {'/'.join(protocols)} amplitudes above rheobase"
        )
    slope = _slope([s.amp_na for s in above], [s.rate_hz for s in above])
    return Measure(_finite(slope), tuple(s.recording for s in above))


def _max_rate(cell: Any, context: SummaryContext) -> Measure:
    protocols = context.protocols.fi
    sweeps = [s for s in context.sweeps(cell, protocols) if s.duration_ms > 0]
    if not sweeps:
        return Measure(None, reason=_missing(protocols))
    best = max(s.rate_hz for s in sweeps)
    return Measure(best, tuple(s.recording for s in sweeps if s.rate_hz == best))


def rheobase_sweeps(cell: Any, context: SummaryContext) -> list[SweepValues]:
    """Return the lowest spiking step of the first-spike protocols, and repetitions."""
    sweeps = context.sweeps(cell, context.protocols.first_spike)
    spiking = [s for s in sweeps if s.spike_count > 0 and s.amp_na > 0]
    if not spiking:
        return []
    lowest = min(s.amp_na for s in spiking)
    return [s for s in spiking if s.amp_na <= 1.01 * lowest]


def _first_spike(cell: Any, context: SummaryContext) -> dict[str, Measure]:
    protocols = context.protocols.first_spike
    names = {
        "ap_threshold_mV": "AP_begin_voltage",
        "ap_amplitude_mV": "AP_amplitude",
        "ap_width_ms": "AP_duration_half_width",
    }
    sweeps = rheobase_sweeps(cell, context)
    if not sweeps:
        present = bool(context.sweeps(cell, protocols))
        reason = _missing(protocols, "spiking sweep" if present else "sweeps")
        return {name: Measure(None, reason=reason) for name in names}
    return {
        name: _mean_of(sweeps, feature, protocols, median=False)
        for name, feature in names.items()
    }


def summarize_cell(cell: Any, context: SummaryContext | None = None) -> CellSummary:
    """Summarize one cell (see the module docstring).

    Parameters
    ----------
    cell : Cell
        A cell as the extraction built it (recordings with traces, rheobase set).
    context : SummaryContext, optional
        Protocol mapping, rheobase protocols, efel settings and cache.

    Returns
    -------
    CellSummary
    """
    context = context or SummaryContext()
    measures = {
        "rheobase_nA": _rheobase(cell, context),
        "input_resistance_MOhm": _input_resistance(cell, context),
        "rmp_mV": _rmp(cell, context),
        "tau_ms": _tau(cell, context),
        "sag_ratio": _sag(cell, context),
    }
    rheobase = measures["rheobase_nA"].value
    measures["fi_slope_Hz_per_nA"] = _fi_slope(cell, context, rheobase)
    measures["max_rate_Hz"] = _max_rate(cell, context)
    measures.update(_first_spike(cell, context))
    return CellSummary(cell.name, {name: measures[name] for name in MEASURES})


def summarize_cells(
    cells: Iterable[Any],
    context: SummaryContext | None = None,
    *,
    progress: Progress | None = None,
    cancel: Any = None,
) -> list[CellSummary]:
    """Summarize every cell, in order.

    Parameters
    ----------
    cells : iterable of Cell
        The extraction's cells.
    context : SummaryContext, optional
        See :func:`summarize_cell`.
    progress : callable, optional
        ``progress(done, total, message)`` between cells.
    cancel : object, optional
        Anything with ``is_set()``, checked between cells and before each sweep
        whose values are computed (see :class:`SummaryContext`).

    Raises
    ------
    Cancelled
        When ``cancel`` was set.
    """
    context = context or SummaryContext()
    if cancel is not None:
        context = replace(context, cancel=cancel)
    cell_list = list(cells)
    summaries = []
    for done, cell in enumerate(cell_list):
        context.check_cancelled()
        if progress is not None:
            progress(done, len(cell_list), f"Summarising {cell.name}")
        summaries.append(summarize_cell(cell, context))
    return summaries
