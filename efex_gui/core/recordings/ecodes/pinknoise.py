"""PinkNoise and CapCheck eCodes (BluePyEfe 2.3.63, spec Appendix A item 5).

A noisy (PinkNoise) or capacitance-check (CapCheck) current between ``ton`` and
``toff``. Timings come from the metadata (config in ms, reader as indices), else the
active region is detected: where the current departs from the holding by more than
``max(4.5 x noise, 2 % of the largest departure, 1e-5 nA)``, the noise being the
standard deviation of the first and last 10 ms. PinkNoise detects on the smoothed
current, CapCheck on the raw one. ``waveform`` is the normalised stimulus, exported
to protocols.json so the stimulus can be replayed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from efex_gui.core.recordings.ecodes import detection
from efex_gui.core.recordings.ecodes.base import ECode

if TYPE_CHECKING:
    from efex_gui.core.recordings.recording import Metadata, Trace

#: Length (ms) of the stretches at both ends used to estimate the noise.
NOISE_WINDOW_MS = 10.0
NOISE_FACTOR = 4.5
#: Fraction of the largest departure from holding that counts as active.
RELATIVE_THRESHOLD = 0.02


class PinkNoise(ECode):
    """A noise current between ``ton`` and ``toff``.

    The parameters are :class:`~efex_gui.core.recordings.ecodes.base.ECode`'s.
    ``config_data`` may give ``ton``/``toff`` (ms), a reader as sample indices.
    """

    # its own attributes, held in slots like Recording's
    __slots__ = ("waveform",)

    #: Whether detection runs on the smoothed (True) or the raw current.
    detect_on_smoothed = True

    _exported = (
        "ton", "toff", "tend", "amp", "hypamp", "dt", "waveform", "amp_rel",
        "hypamp_rel",
    )  # fmt: skip

    default_protocol_name = "PinkNoise"

    def get_stimulus_parameters(self) -> dict[str, Any]:
        """Step keys plus ``dt`` and the normalised ``waveform``."""
        params = super().get_stimulus_parameters()
        params["dt"] = self.dt
        params["waveform"] = self.waveform
        return params

    def interpret(
        self, t: Any, current: Any, config_data: Metadata, reader_data: Trace
    ) -> None:
        """Interpret timings (given or detected), holding, amplitude and waveform."""
        ton, toff = self._given_window(config_data, reader_data)
        hypamp = detection.base_current(
            current, detection.BASE_CURRENT_SAMPLES if ton is None else ton
        )
        self.set_amplitudes_ecode("hypamp", config_data, reader_data, hypamp)
        if ton is None or toff is None:
            found_on, found_off = self._detect(current)
            ton = found_on if ton is None else ton
            toff = found_off if toff is None else toff

        window = np.asarray(current[ton:toff], dtype=np.float64) - self.hypamp
        amp = np.max(np.abs(window)) if len(window) else np.nan
        self.set_amplitudes_ecode("amp", config_data, reader_data, amp)
        self.waveform = window / self.amp
        self.ton, self.toff = ton, toff
        self._timings_to_ms(t, ("ton", "toff"))

    def _detect(self, current: Any) -> tuple[int, int]:
        """First and one-past-last index of the active region."""
        signal = (
            detection.smooth(current)
            if self.detect_on_smoothed
            else (np.asarray(current, dtype=np.float64))
        )
        n_noise = max(1, int(NOISE_WINDOW_MS / self.dt))
        noise = np.std(np.concatenate((signal[:n_noise], signal[-n_noise:])))
        deviation = np.abs(signal - self.hypamp)
        threshold = max(
            NOISE_FACTOR * noise,
            RELATIVE_THRESHOLD * np.max(deviation),
            detection.MIN_EDGE_THRESHOLD,
        )
        active = np.nonzero(deviation > threshold)[0]
        if not len(active):
            self.warn("no active stimulus region found; the whole trace is used.")
            return 0, len(signal)
        return int(active[0]), int(active[-1]) + 1

    def generate(self) -> tuple[np.ndarray, np.ndarray]:
        """Rebuild the stimulus: ``(t, current)``, ms and nA."""
        t, current = self._holding_trace()
        ton_idx = int(round(self.ton / self.dt))
        waveform = np.asarray(self.waveform, dtype=np.float64)
        stop = min(len(t), ton_idx + len(waveform))
        current[ton_idx:stop] = self.hypamp + self.amp * waveform[: stop - ton_idx]
        return t, current
