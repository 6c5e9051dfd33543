"""The efel values one sweep contributes to the cell measures and curves.

One efel call per sweep (through :meth:`Recording.call_efel`, i.e. the extraction's
own efel door and settings) computes every feature the cell summary, the f-I and the
I-V curves read. :class:`SweepValuesCache` keeps them per sweep identity (the digest
of what efel receives), so re-summarising after an exclusion recomputes nothing.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from efex_gui.core.extraction.feature_cache import settings_key, sweep_identity

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = ["SWEEP_FEATURES", "SweepValues", "SweepValuesCache", "sweep_values"]

#: the efel features computed on every sweep the summary reads
SWEEP_FEATURES: tuple[str, ...] = (
    "voltage_base",
    "steady_state_voltage_stimend",
    "minimum_voltage",
    "maximum_voltage",
    "time_constant",
    "sag_ratio1",
    "spike_count",
    "AP_begin_voltage",
    "AP_begin_time",
    "AP_amplitude",
    "AP_duration_half_width",
)


@dataclass(frozen=True)
class SweepValues:
    """What one sweep contributes (first value of each efel feature, or None).

    Attributes
    ----------
    recording : Recording
        The sweep (as the extraction built it).
    amp_na : float
        Step amplitude above holding (nA), the eCode's ``amp``.
    duration_ms : float
        Stimulus duration ``toff - ton`` (ms).
    values : dict
        ``{efel feature: first value or None}``.
    """

    recording: Any
    amp_na: float
    duration_ms: float
    values: dict[str, float | None] = field(default_factory=dict)

    def get(self, feature: str) -> float | None:
        """Return the feature's first value (None when efel gave nothing)."""
        return self.values.get(feature)

    @property
    def spike_count(self) -> int:
        """Spikes in the stimulus window (0 when efel gave nothing)."""
        count = self.values.get("spike_count")
        return int(count) if count is not None else 0

    @property
    def rate_hz(self) -> float:
        """Mean firing rate over the stimulus (Hz)."""
        if self.duration_ms <= 0:
            return float("nan")
        return 1000.0 * self.spike_count / self.duration_ms


def _first(value: Any) -> float | None:
    if value is None:
        return None
    array = np.asarray(value, dtype=float).ravel()
    if array.size == 0 or not np.isfinite(array[0]):
        return None
    return float(array[0])


def sweep_values(
    recording: Any, efel_settings: Mapping[str, Any] | None = None
) -> SweepValues | None:
    """Compute :data:`SWEEP_FEATURES` on one sweep.

    Parameters
    ----------
    recording : Recording
        A sweep with its traces and eCode timings.
    efel_settings : mapping, optional
        The extraction's efel settings.

    Returns
    -------
    SweepValues or None
        None when the sweep has no traces or no step amplitude.
    """
    if getattr(recording, "voltage", None) is None or recording.amp is None:
        return None
    raw = recording.call_efel(list(SWEEP_FEATURES), efel_settings)
    return SweepValues(
        recording=recording,
        amp_na=float(recording.amp),
        duration_ms=float(recording.toff) - float(recording.ton),
        values={name: _first(raw.get(name)) for name in SWEEP_FEATURES},
    )


class SweepValuesCache:
    """Per-sweep values keyed by (sweep identity, efel settings); thread-safe."""

    def __init__(self) -> None:
        self._values: dict[tuple[str, str], dict[str, float | None]] = {}
        self._lock = threading.Lock()

    def get(
        self, recording: Any, efel_settings: Mapping[str, Any] | None = None
    ) -> SweepValues | None:
        """Return the sweep's values, computed once per identity and settings."""
        if getattr(recording, "voltage", None) is None or recording.amp is None:
            return None
        key = (sweep_identity(recording), settings_key(dict(efel_settings or {})))
        with self._lock:
            cached = self._values.get(key)
        if cached is None:
            computed = sweep_values(recording, efel_settings)
            if computed is None:
                return None
            with self._lock:
                self._values[key] = computed.values
            return computed
        return SweepValues(
            recording,
            float(recording.amp),
            float(recording.toff) - float(recording.ton),
            dict(cached),
        )

    def clear(self) -> None:
        """Forget every value."""
        with self._lock:
            self._values.clear()
