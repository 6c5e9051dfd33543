"""f-I and I-V curves per cell, and their mean ± s.e.m. across cells.

Every point keeps the sweep it came from, so a view can select it. The f-I curve is
the firing rate (spikes in the stimulus / stimulus duration) of the f-I protocols'
sweeps against their amplitude; the I-V curves are the steady-state voltage
(``steady_state_voltage_stimend``) and the peak voltage (``minimum_voltage`` for
hyperpolarising steps, ``maximum_voltage`` for depolarising ones) of the
non-spiking sweeps of the input-resistance protocols.

Across cells, :func:`mean_curve` bins the x values (absolute nA, or % of each cell's
rheobase), averages each cell's points in a bin first, then gives the mean, the
standard error of the mean and the number of cells per bin.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from efex_gui.core.analysis.cell_summary import SummaryContext

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

__all__ = ["Curve", "CurvePoint", "MeanCurve", "fi_curve", "iv_curves", "mean_curve"]


@dataclass(frozen=True)
class CurvePoint:
    """One point of a curve: x, y and the sweep it came from."""

    x: float
    y: float
    recording: Any


@dataclass(frozen=True)
class Curve:
    """A cell's curve; ``kind`` is ``"fi"``, ``"iv_steady"`` or ``"iv_peak"``."""

    cell: str
    kind: str
    points: tuple[CurvePoint, ...]

    @property
    def x(self) -> np.ndarray:
        """The x values, in point order."""
        return np.array([p.x for p in self.points], dtype=float)

    @property
    def y(self) -> np.ndarray:
        """The y values, in point order."""
        return np.array([p.y for p in self.points], dtype=float)


@dataclass(frozen=True)
class MeanCurve:
    """Mean ± s.e.m. across cells, per x bin (``n`` = cells in the bin)."""

    x: np.ndarray
    mean: np.ndarray
    sem: np.ndarray
    n: np.ndarray


def _sorted(cell: str, kind: str, points: Iterable[CurvePoint]) -> Curve:
    return Curve(cell, kind, tuple(sorted(points, key=lambda p: p.x)))


def fi_curve(cell: Any, context: SummaryContext | None = None) -> Curve:
    """Rate (Hz) against amplitude (nA) over the cell's f-I protocols."""
    context = context or SummaryContext()
    sweeps = context.sweeps(cell, context.protocols.fi)
    points = (
        CurvePoint(s.amp_na, s.rate_hz, s.recording)
        for s in sweeps
        if s.duration_ms > 0
    )
    return _sorted(cell.name, "fi", points)


def iv_curves(cell: Any, context: SummaryContext | None = None) -> tuple[Curve, Curve]:
    """Steady-state and peak voltage (mV) against amplitude (nA), non-spiking sweeps."""
    context = context or SummaryContext()
    sweeps = context.sweeps(cell, context.protocols.input_resistance)
    steady, peak = [], []
    for s in sweeps:
        if s.spike_count > 0:
            continue
        steady_v = s.get("steady_state_voltage_stimend")
        if steady_v is not None:
            steady.append(CurvePoint(s.amp_na, steady_v, s.recording))
        extreme = s.get("minimum_voltage" if s.amp_na < 0 else "maximum_voltage")
        if extreme is not None:
            peak.append(CurvePoint(s.amp_na, extreme, s.recording))
    return _sorted(cell.name, "iv_steady", steady), _sorted(cell.name, "iv_peak", peak)


def _binned_cell_means(
    curve: Curve, scale: float, bin_width: float
) -> dict[float, float]:
    bins: dict[float, list[float]] = {}
    for point in curve.points:
        if np.isfinite(point.y):
            key = round(point.x * scale / bin_width) * bin_width
            bins.setdefault(key, []).append(point.y)
    return {key: float(np.mean(values)) for key, values in bins.items()}


def mean_curve(
    curves: Iterable[Curve],
    bin_width: float,
    rheobases: Mapping[str, float | None] | None = None,
) -> MeanCurve:
    """Mean ± s.e.m. across cells of one kind of curve.

    Parameters
    ----------
    curves : iterable of Curve
        One curve per cell.
    bin_width : float
        Width of the x bins, in the x unit (nA, or % of rheobase).
    rheobases : mapping, optional
        ``{cell: rheobase (nA)}``: x becomes % of each cell's rheobase; cells without
        a rheobase are left out.

    Returns
    -------
    MeanCurve
        Sorted by x; s.e.m. is NaN where a bin has one cell.
    """
    per_bin: dict[float, list[float]] = {}
    for curve in curves:
        scale = 1.0
        if rheobases is not None:
            rheobase = rheobases.get(curve.cell)
            if not rheobase:
                continue
            scale = 100.0 / rheobase
        for key, value in _binned_cell_means(curve, scale, bin_width).items():
            per_bin.setdefault(key, []).append(value)
    xs = sorted(per_bin)
    values = [np.asarray(per_bin[x]) for x in xs]
    sem = [
        float(np.std(v, ddof=1) / np.sqrt(len(v))) if len(v) > 1 else float("nan")
        for v in values
    ]
    return MeanCurve(
        np.array(xs, dtype=float),
        np.array([float(np.mean(v)) for v in values]),
        np.array(sem),
        np.array([len(v) for v in values], dtype=int),
    )
