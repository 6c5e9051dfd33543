"""Step eCode: IDRest, IDThresh, IV, APWaveform, FirePattern, Spontaneous, Delta, ...

Stimulus model: a holding current ``hypamp`` everywhere, plus ``amp`` between
``ton`` and ``toff`` (spec §3.5.1). The step is detected on the smoothed current
unless the metadata gives its timing.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import numpy as np

from efex_gui.core.recordings.ecodes import detection
from efex_gui.core.recordings.ecodes.base import WINDOW_PARAMETERS, ECode

if TYPE_CHECKING:
    from efex_gui.core.recordings.recording import Metadata, Trace


class Step(ECode):
    """A square current step on top of a holding current.

    The parameters are :class:`~efex_gui.core.recordings.ecodes.base.ECode`'s.
    ``config_data`` may give ``ton``/``toff`` (ms) and ``amp``/``hypamp`` (the file's
    current unit); ``ton``/``toff`` from a reader are sample indices.
    """

    is_step = True
    #: ``amp`` and ``hypamp`` keep the metadata's values (Recording.standardize_trace)
    _attributes = ("ton", "toff", "tend", "dt", "amp_rel", "hypamp_rel")
    _exported = WINDOW_PARAMETERS

    default_protocol_name = "step"

    def interpret(
        self, t: Any, current: Any, config_data: Metadata, reader_data: Trace
    ) -> None:
        """Find ``ton``, ``toff``, ``hypamp`` and ``amp`` (spec §3.5.1)."""
        ton, toff = self._given_window(config_data, reader_data)
        if ton is None or toff is None:  # timings from the metadata need no filter
            smooth = detection.smooth(current)
            threshold = detection.edge_threshold(current, detection.STEP_NOISE_FACTOR)
            buffer = detection.buffer_samples(self.dt)

        if ton is None:
            if self.hypamp is None:
                self.hypamp = detection.base_current(current)
            deviation = np.abs(smooth - self.hypamp)
            ton = detection.first_crossing(deviation, threshold, buffer)
            if not detection.has_crossing(deviation, threshold, buffer, len(smooth)):
                self.warn(
                    "no current step found (edge threshold "
                    f"{threshold:.4g} nA = {detection.STEP_NOISE_FACTOR} x the current "
                    "noise, or a flat current): ton/toff fall back to the trace edges "
                    "and amp is the median over the whole trace.",
                    logging.INFO,
                )
        elif self.hypamp is None:
            self.hypamp = detection.base_current(current, idx_ton=ton)

        if toff is None:
            deviation = np.abs(smooth - self.hypamp)
            toff = detection.last_crossing(deviation, threshold, len(smooth) - buffer)

        if self.amp is None:
            self.amp = detection.median(current[ton:toff]) - self.hypamp

        self.ton, self.toff = ton, toff
        self._timings_to_ms(t, ("ton", "toff"))
        self._check_timing()

    def _check_timing(self) -> None:
        if self.ton >= self.toff or self.ton >= self.tend or self.toff > self.tend:
            self._detection_failed("ton and toff")

    def generate(self) -> tuple[np.ndarray, np.ndarray]:
        """Rebuild the stimulus: ``(t, current)``, ms and nA."""
        ton_idx, toff_idx = self._indices("ton", "toff")
        t, current = self._holding_trace()
        current[ton_idx:toff_idx] += np.float64(self.amp)
        return t, current
