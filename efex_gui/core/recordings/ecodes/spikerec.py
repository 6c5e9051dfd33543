"""SpikeRec eCode: a train of identical short pulses (spec §3.5.7).

BluePyEfe's quirks are kept: ``amp`` is the absolute peak of the smoothed current
(not relative to holding), ``ton`` is always 0 (so the automatic threshold is NaN),
and targets are matched on the mean inter-pulse gap ``delta`` (ms) in both modes.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import numpy as np

from efex_gui.core.recordings.ecodes import detection
from efex_gui.core.recordings.ecodes.base import ECode

if TYPE_CHECKING:
    from efex_gui.core.recordings.recording import Metadata, Trace

logger = logging.getLogger(__name__)

#: Pulses closer than this many samples are merged.
MAX_GAP_SAMPLES = 10
#: A pulse is where the smoothed current exceeds hypamp + this fraction of amp.
PULSE_FRACTION = 0.1


class SpikeRec(ECode):
    """Pulse train; efel window is the whole trace, pulses given as multi_stim.

    The parameters are :class:`~efex_gui.core.recordings.ecodes.base.ECode`'s.
    """

    # its own attributes, held in slots like Recording's
    __slots__ = (
        "delta",
        "multi_stim_end",
        "multi_stim_start",
        "spike_duration",
        "tspike",
    )

    _exported = (
        "tend", "tspike", "spike_duration", "delta", "amp", "hypamp", "dt",
        "amp_rel", "hypamp_rel",
    )  # fmt: skip
    _attributes = ("toff", *_exported, "multi_stim_start", "multi_stim_end")

    default_protocol_name = "SpikeRec"

    @property
    def ton(self) -> float:
        """Always 0.0: the efel window starts at the beginning of the trace."""
        return 0.0

    @ton.setter
    def ton(self, value: Any) -> None:
        """Ignored (kept settable so averaging can assign it)."""

    def get_stimulus_parameters(self) -> dict[str, Any]:
        """Stimulus description for protocols.json."""
        return {
            "delay": self.tspike[0],
            "n_spikes": len(self.tspike),
            "delta": self.delta,
            "amp": self.amp,
            "thresh_perc": self.amp_rel,
            "spike_duration": self.spike_duration,
            "totduration": self.tend,
        }

    def matched_amplitude(self, absolute_amplitude: bool = False) -> Any:
        """Match on the inter-pulse gap ``delta`` (ms), whatever the mode."""
        return self.delta

    def in_target(
        self, target: float, tolerance: float, absolute_amplitude: bool = False
    ) -> bool:
        """Whether |target - delta| < tolerance (strict), ``delta`` in ms."""
        logger.warning(
            "SpikeRec recordings are matched on delta (the inter-pulse "
            "gap in ms), not on their amplitude."
        )
        return super().in_target(target, tolerance, absolute_amplitude)

    def interpret(
        self, t: Any, current: Any, config_data: Metadata, reader_data: Trace
    ) -> None:
        """Find the holding, the peak current and the pulses."""
        smooth = detection.smooth(current, detection.SPIKEREC_SMOOTHING_WIDTH)
        self.set_amplitudes_ecode(
            "hypamp", config_data, reader_data, detection.base_current(current)
        )
        self.set_amplitudes_ecode("amp", config_data, reader_data, np.max(smooth))

        above = np.where(smooth > self.hypamp + PULSE_FRACTION * self.amp)[0]
        groups = np.split(above, np.where(np.diff(above) > MAX_GAP_SAMPLES)[0] + 1)
        groups = [g for g in groups if len(g)]
        first = np.array([g[0] for g in groups], dtype=int)
        last = np.array([g[-1] for g in groups], dtype=int)
        self.tspike = (first - 1) * self.dt
        widths = (last - first + 1) * self.dt
        self.spike_duration = detection.mean_or_nan(widths)
        self.delta = detection.mean_or_nan((first[1:] - last[:-1] - 1) * self.dt)
        self.tend = len(t) * self.dt
        self.toff = self.tend
        self.multi_stim_start = list(self.tspike)
        self.multi_stim_end = [ts + self.spike_duration for ts in self.tspike]

    def generate(self) -> tuple[np.ndarray, np.ndarray]:
        """Rebuild the stimulus: ``(t, current)``, ms and nA."""
        t, current = self._holding_trace()
        period = self.spike_duration + self.delta
        for i in range(len(self.tspike)):
            start = self.tspike[0] + i * period
            start_idx = int(start / self.dt)
            end_idx = int((start + self.spike_duration) / self.dt)
            current[start_idx:end_idx] += np.float64(self.amp)
        return t, current
