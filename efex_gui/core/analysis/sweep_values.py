"""The efel values one sweep contributes to the cell measures and curves.

One efel call per sweep (through :meth:`Recording.call_efel`, i.e. the extraction's
own efel door and settings) computes every feature the cell summary, the f-I and the
I-V curves read. :class:`SweepValuesCache` keeps them per sweep, keyed as the
extraction's :class:`~efex_gui.core.extraction.feature_cache.FeatureCache` keys its
values (a trace-free key for recordings read from files, else the digest of what efel
receives), so re-summarising after an exclusion recomputes nothing and reads no file.
:meth:`SweepValuesCache.values_of` also keeps them in the persistent feature store
(:mod:`~efex_gui.core.extraction.store_batch`), so a reopened session, a second window
or a later summary of the same sweeps (same files, metadata, efel settings and
versions) makes no efel call.
"""

from __future__ import annotations

import math
import sys
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from efex_gui.core.extraction.feature_cache import (
    key_memo,
    settings_key,
    sweep_identity,
)
from efex_gui.core.extraction.store_batch import marked_key, stored_batch

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping

    from efex_gui.core.extraction.feature_store import FeatureStore

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
#: keeps the summary's values apart from the extraction's (first value, not mean)
_MARKER = "__efex_sweep_values__"


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
    """Per-sweep values keyed by (sweep key, efel settings); thread-safe.

    The key of a recording built by the core from a file is its persistent key
    (:func:`~efex_gui.core.extraction.store_batch.marked_key`; no trace needed: a
    cached value is found on a recording whose traces were dropped, and the same key
    finds it in the persistent store), else
    :func:`~efex_gui.core.extraction.feature_cache.sweep_identity` (memory only).
    Keys are memoised per recording object.
    """

    def __init__(self) -> None:
        self._values: dict[tuple[str, str], dict[str, float | None]] = {}
        self._lock = threading.Lock()
        self._last_settings: tuple[Any, dict[str, Any], str, str] | None = None

    def key(
        self, recording: Any, efel_settings: Mapping[str, Any] | None = None
    ) -> tuple[str, str] | None:
        """Return the cache key of the recording's values (None: not keyable yet).

        A recording without a trace-free key needs its traces for its identity.
        """
        settings, memo_key = self._settings_text(efel_settings)
        memo = key_memo(recording)
        if memo is not None and memo_key in memo:
            known: tuple[str, str] = memo[memo_key]
            return known
        persistent = marked_key(recording, efel_settings, _MARKER)
        if persistent is None:
            if getattr(recording, "voltage", None) is None:
                return None
            persistent = "mem|" + sweep_identity(recording)
        key = (persistent, settings)
        if memo is not None:
            memo[memo_key] = key
        return key

    def _settings_text(
        self, efel_settings: Mapping[str, Any] | None
    ) -> tuple[str, str]:
        """``settings_key`` of the settings and the key of the values in a key memo.

        Reused while the same dict is passed: a summary passes one settings dict for
        thousands of sweeps. The memo key (in the recordings' ``cache_keys``, beside
        the feature cache's keys) is one interned string for all of them.
        """
        last = self._last_settings
        if last is not None and last[0] is efel_settings and last[1] == efel_settings:
            return last[2], last[3]
        text = settings_key(dict(efel_settings or {}))
        memo_key = sys.intern(_MARKER + text)
        self._last_settings = (efel_settings, dict(efel_settings or {}), text, memo_key)
        return text, memo_key

    def known(
        self, recording: Any, efel_settings: Mapping[str, Any] | None = None
    ) -> SweepValues | None:
        """Return the sweep's values if already computed (no trace, no efel call)."""
        if recording.amp is None:
            return None
        key = self.key(recording, efel_settings)
        with self._lock:
            cached = None if key is None else self._values.get(key)
        if cached is None:
            return None
        return SweepValues(
            recording,
            float(recording.amp),
            float(recording.toff) - float(recording.ton),
            dict(cached),
        )

    def get(
        self, recording: Any, efel_settings: Mapping[str, Any] | None = None
    ) -> SweepValues | None:
        """Return the sweep's values, computed once per key and settings."""
        known = self.known(recording, efel_settings)
        if known is not None:
            return known
        if getattr(recording, "voltage", None) is None or recording.amp is None:
            return None
        computed = sweep_values(recording, efel_settings)
        if computed is not None:
            self._remember(recording, efel_settings, computed.values)
        return computed

    def values_of(
        self,
        recordings: Iterable[Any],
        efel_settings: Mapping[str, Any] | None = None,
        *,
        store: FeatureStore | None = None,
        before_read: Callable[[], None] | None = None,
    ) -> list[SweepValues | None]:
        """Return the values of many sweeps: from memory, then ``store``, then efel.

        Parameters
        ----------
        recordings : iterable of Recording
            The sweeps (traces may have been dropped).
        efel_settings : mapping, optional
            The extraction's efel settings.
        store : FeatureStore, optional
            The persistent cache, looked up once for the sweeps not in memory;
            what efel computed is written to it in one transaction, also when
            ``before_read`` raised. Use it from one thread only.
        before_read : callable, optional
            Called before each file is read for efel (a sweep whose values are
            found reads no file); may raise to stop (a cancel).

        Returns
        -------
        list
            Per recording, its :class:`SweepValues` or None (no traces, no amp).
        """
        from efex_gui.core.recordings.traces import read_together, traces_reloaded

        chosen = list(recordings)
        found = {id(r): self.known(r, efel_settings) for r in chosen}
        absent = [r for r in chosen if found[id(r)] is None and r.amp is not None]
        keys = {id(r): self.stored_key(r, efel_settings) for r in absent}
        with stored_batch(store, keys) as batch:
            for recording in absent:
                values = _checked(batch.found(id(recording)))
                if values is not None:
                    self._remember(recording, efel_settings, values)
                    found[id(recording)] = self.known(recording, efel_settings)
            todo = [r for r in absent if found[id(r)] is None]
            for group in read_together(todo):
                if before_read is not None:
                    before_read()
                with traces_reloaded(group):
                    for recording in group:
                        computed = found[id(recording)] = self.get(
                            recording, efel_settings
                        )
                        if computed is not None:
                            batch.put(id(recording), computed.values)
        return [found[id(r)] for r in chosen]

    def stored_key(
        self, recording: Any, efel_settings: Mapping[str, Any] | None
    ) -> str | None:
        """Return the persistent key of the values (None: kept in memory only)."""
        key = self.key(recording, efel_settings)
        return None if key is None or key[0].startswith("mem|") else key[0]

    def _remember(
        self,
        recording: Any,
        efel_settings: Mapping[str, Any] | None,
        values: dict[str, float | None],
    ) -> None:
        key = self.key(recording, efel_settings)
        if key is not None:
            with self._lock:
                self._values[key] = values

    def clear(self) -> None:
        """Forget every value."""
        with self._lock:
            self._values.clear()


def _checked(stored: Mapping[str, Any] | None) -> dict[str, float | None] | None:
    """Return stored values holding every feature as a finite number or None.

    Anything else (another format, a damaged entry) is None: computed again.
    """
    if stored is None or any(name not in stored for name in SWEEP_FEATURES):
        return None
    values: dict[str, float | None] = {}
    for name in SWEEP_FEATURES:
        value = stored[name]
        if value is not None and not (
            isinstance(value, float | int)
            and not isinstance(value, bool)
            and math.isfinite(value)
        ):
            return None
        values[name] = None if value is None else float(value)
    return values
