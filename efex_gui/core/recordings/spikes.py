"""Spike counts computed on first use (spec §3.2.4), and their scientific guards.

BluePyEfe counts the spikes of every recording when it builds it; only the rheobase
(the recordings of ``protocols_rheobase``), plots and the GUI ever read the count. The
eCodes therefore call :meth:`LazySpikeCount.defer_spikecount`: ``peak_time`` and
``spikecount`` are computed, with the very settings BluePyEfe would use, the first
time they are read. :class:`~efex_gui.core.recordings.recording.Recording` inherits
this; what it must provide is the :class:`SpikeHost` protocol, the self-type of the
methods that use it (mypy checks that ``Recording`` satisfies it).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from efex_gui.core.errors import EfexError
from efex_gui.core.recordings.checks import baseline_warning

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

__all__ = ["LazySpikeCount", "SpikeHost", "TracesDroppedError"]


class TracesDroppedError(EfexError, AttributeError):
    """A value needs the traces, which a low-memory run has already dropped."""


class SpikeHost(Protocol):
    """What a class mixing in :class:`LazySpikeCount` provides (``Recording`` does).

    The count's own state and properties are listed too: the methods that use the
    host take it as their self-type.
    """

    #: the voltage trace (mV), None once the traces are dropped
    voltage: Any
    #: the stimulus window (ms) and the automatic spike threshold (mV)
    ton: Any
    toff: Any
    auto_threshold: Any
    _spikecount_settings: dict[str, Any] | None
    _peak_time: Any

    @property
    def peak_time(self) -> Any:
        """Spike peak times (:attr:`LazySpikeCount.peak_time`)."""
        ...

    @peak_time.setter
    def peak_time(self, value: Any) -> None: ...

    @property
    def spikecount(self) -> int | None:
        """Number of spikes (:attr:`LazySpikeCount.spikecount`)."""
        ...

    def call_efel(
        self, efeatures: Sequence[str], efel_settings: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        """Run efel on the sweep."""
        ...

    def ms_to_index(self, timing: float) -> int:
        """Return the sample index of a time in ms."""
        ...

    def warn(self, message: str, level: int = logging.WARNING) -> None:
        """Record a warning about the sweep."""
        ...

    def _where(self) -> str: ...


class LazySpikeCount:
    """``peak_time`` / ``spikecount`` of a recording, possibly deferred.

    The host class (:class:`~efex_gui.core.recordings.recording.Recording`) provides
    :class:`SpikeHost`: the methods that need it take it as their self-type.
    """

    # in slots, like the host's attributes (set by the host's constructor)
    __slots__ = ("_peak_time", "_spikecount_settings")
    _spikecount_settings: dict[str, Any] | None
    _peak_time: Any

    @property
    def peak_time(self: SpikeHost) -> Any:
        """Spike peak times (ms) inside the stimulus window, or None without spikes.

        Computed on first access when the eCode deferred it (``defer_spikecount``).
        """
        value = _stored_peak_time(self)
        if type(value) is bytes:  # packed (see ``pack_peak_time``)
            return np.frombuffer(value, dtype=float)
        return value

    @peak_time.setter
    def peak_time(self, value: Any) -> None:
        self._spikecount_settings = None
        self._peak_time = value

    @property
    def spikecount(self: SpikeHost) -> int | None:
        """Number of detected spikes, or None when efel returned no ``peak_time``."""
        value = _stored_peak_time(self)
        if value is None:
            return None
        return len(value) // 8 if type(value) is bytes else len(value)

    def pack_peak_time(self) -> None:
        """Keep the spike times packed in bytes (read back as a read-only array).

        For recordings kept long without their traces (the browser's): a NumPy
        array's header took 0.1 kB of the 0.16 kB a sweep's spike times held.
        Nothing when the count is deferred or the times are not 1-D floats.
        """
        value = self._peak_time
        if (
            self._spikecount_settings is None
            and isinstance(value, np.ndarray)
            and value.ndim == 1
            and value.dtype == np.float64
        ):
            self._peak_time = value.tobytes()

    @property
    def spikecount_pending(self) -> bool:
        """Whether the spike count is deferred and not computed yet."""
        return self._spikecount_settings is not None

    @staticmethod
    def upgrade_state(state: dict[str, Any]) -> None:
        """Bring a pickled state written by an older version up to date, in place."""
        # pickles written before the spike count became lazy hold ``peak_time``
        if "peak_time" in state:
            state["_peak_time"] = state.pop("peak_time")
        state.setdefault("_peak_time", None)
        state.setdefault("_spikecount_settings", None)

    def resolve_spikecount(self: SpikeHost) -> None:
        """Compute a deferred spike count now (nothing when none is pending)."""
        if self._spikecount_settings is not None:
            _resolve(self)

    def compute_spikecount(
        self: SpikeHost, efel_settings: Mapping[str, Any] | None = None
    ) -> None:
        """Detect spikes inside the stimulus window and store ``peak_time``."""
        settings = _settings_for(self, efel_settings)
        self.peak_time = self.call_efel(["peak_time"], settings)["peak_time"]
        _check_spike_detection(self, settings["Threshold"])
        _check_baseline(self, settings["Threshold"])

    def defer_spikecount(
        self: SpikeHost, efel_settings: Mapping[str, Any] | None = None
    ) -> None:
        """Schedule :meth:`compute_spikecount`: done on first access of ``peak_time``.

        The eCodes call this at construction (BluePyEfe computes the count there):
        only the recordings whose count is read (the rheobase protocols, plots, the
        GUI) pay the efel call. The values are those of ``compute_spikecount``; the
        baseline guard runs now, the spike-detection guard when the count is made.
        """
        settings = _settings_for(self, efel_settings)
        _check_baseline(self, settings["Threshold"])
        self._peak_time = None
        self._spikecount_settings = settings


def _settings_for(
    host: SpikeHost, efel_settings: Mapping[str, Any] | None
) -> dict[str, Any]:
    """Return the spike count's efel settings: strict window, automatic threshold."""
    settings: dict[str, Any] = {"strict_stiminterval": True}
    if efel_settings:
        settings.update(efel_settings)
    if settings.get("Threshold") is None:
        settings["Threshold"] = host.auto_threshold
    return settings


def _stored_peak_time(host: SpikeHost) -> Any:
    """Return the spike times as kept: an array, packed bytes or None.

    A deferred count is made first.
    """
    if host._spikecount_settings is not None:
        _resolve(host)
    return host._peak_time


def _resolve(host: SpikeHost) -> None:
    """Compute a deferred spike count (the ``peak_time`` getter's work)."""
    settings = host._spikecount_settings
    assert settings is not None  # only called while the count is pending
    if host.voltage is None:
        from efex_gui.core.recordings.traces import can_reload, traces_reloaded

        if can_reload(host):  # traces dropped to save memory: read them again
            with traces_reloaded([host]):
                _resolve(host)
            return
        raise TracesDroppedError(
            f"The spike count of {host._where()} was never computed and its "
            "traces were dropped (low-memory run): keep the traces (pickle_cells "
            "or plot) or call compute_spikecount before drop_traces."
        )
    host._spikecount_settings = None
    host._peak_time = host.call_efel(["peak_time"], settings)["peak_time"]
    _check_spike_detection(host, settings["Threshold"])


def _finite(threshold: Any) -> float | None:
    try:
        threshold = float(threshold)
    except (TypeError, ValueError):
        return None
    return None if np.isnan(threshold) else threshold


def _check_spike_detection(host: SpikeHost, threshold: Any) -> None:
    """Scientific guard on the spike count (warning only, numbers unchanged)."""
    threshold = _finite(threshold)
    if threshold is None:
        return
    window = host.voltage[host.ms_to_index(host.ton) : host.ms_to_index(host.toff)]
    if not host.spikecount and len(window) and np.max(window) > threshold:
        host.warn(
            f"no spike detected although the voltage crosses the spike "
            f"threshold during the stimulus ({threshold:.2f} mV).",
            logging.INFO,
        )


def _check_baseline(host: SpikeHost, threshold: Any) -> None:
    """Scientific guard on the baseline voltage (warning only)."""
    message = baseline_warning(host.voltage, host.ms_to_index(host.ton), threshold)
    if message:
        host.warn(message, logging.INFO)
