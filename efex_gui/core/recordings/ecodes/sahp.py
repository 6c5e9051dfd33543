"""SAHP eCode: sAHP, IDhyperpol, IRdepol, IRhyperpol, IDdepol (spec §3.5.3).

Stimulus model: holding ``hypamp``; a long step ``amp`` from ``ton`` to ``toff``; on
top of it a short step reaching ``amp2`` (relative to holding) between ``tmid`` and
``tmid2``. Timings come from the metadata when all four are given, otherwise they
are detected (noise factor 2.0). Targets match the short step's amplitude.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from efex_gui.core.recordings.ecodes import detection
from efex_gui.core.recordings.ecodes.base import ECode

if TYPE_CHECKING:
    from efex_gui.core.recordings.recording import Metadata, Trace

#: Samples kept away from the long step's edges when looking for the short step.
INNER_MARGIN = 50
TIMINGS = ("ton", "tmid", "tmid2", "toff")


class SAHP(ECode):
    """A long step with a short, stronger step in its middle.

    The parameters are :class:`~efex_gui.core.recordings.ecodes.base.ECode`'s;
    ``config_data`` gives ``ton, tmid, tmid2, toff`` (ms) and optionally ``tend`` (ms).
    """

    # its own attributes, held in slots like Recording's
    __slots__ = (
        "amp2",
        "amp2_rel",
        "tmid",
        "tmid2",
    )

    # set by the constructor (None until interpreted; ms / nA / % of the rheobase)
    tmid: Any
    tmid2: Any
    amp2: Any
    amp2_rel: Any
    _exported = (
        "ton", "tmid", "tmid2", "toff", "tend", "amp", "amp2", "hypamp", "dt",
        "amp_rel", "amp2_rel", "hypamp_rel",
    )  # fmt: skip
    relative_amplitudes = ("amp", "amp2", "hypamp")

    default_protocol_name = "sAHP"

    def get_stimulus_parameters(self) -> dict[str, Any]:
        """Stimulus description for protocols.json (``amp`` is the short step)."""
        return {
            "delay": self.ton,
            "tmid": self.tmid,
            "tmid2": self.tmid2,
            "toff": self.toff,
            "amp": self.amp2,
            "long_amp": self.amp,
            "thresh_perc": self.amp2_rel,
            "duration": self.tmid2 - self.tmid,
            "totduration": self.tend,
        }

    def matched_amplitude(self, absolute_amplitude: bool = False) -> Any:
        """Match on the short step: ``amp2`` (absolute) or ``amp2_rel``."""
        return self.amp2 if absolute_amplitude else self.amp2_rel

    def interpret(
        self, t: Any, current: Any, config_data: Metadata, reader_data: Trace
    ) -> None:
        """Interpret timings from the metadata if all four are there, else detected."""
        smooth = detection.smooth(current)
        if all(name in config_data for name in TIMINGS):
            self._interpret_from_config(t, smooth, config_data, reader_data)
        else:
            try:
                self._detect(t, current, smooth, config_data)
            except ValueError:
                self.warn(
                    "The automatic sAHP step detection failed (empty detection "
                    "window): ton=0, tmid=0, toff=tmid2=tend. Give ton, tmid, tmid2 "
                    "and toff in the files_metadata for this file."
                )
                self.tend = len(t) * self.dt
                self.ton, self.tmid = 0, 0
                self.toff = self.tmid2 = self.tend

    def _interpret_from_config(
        self, t: Any, smooth: np.ndarray, config_data: Metadata, reader_data: Trace
    ) -> None:
        self._read_timings(config_data, TIMINGS)
        ton, tmid, tmid2, toff = self.ton, self.tmid, self.tmid2, self.toff
        hypamp = detection.median_outside(smooth, ton, toff)
        self.set_amplitudes_ecode("hypamp", config_data, reader_data, hypamp)
        long_step = np.concatenate((smooth[ton:tmid], smooth[tmid2:toff]))
        amp = detection.median(long_step) - self.hypamp
        self.set_amplitudes_ecode("amp", config_data, reader_data, amp)
        amp2 = detection.median(smooth[tmid:tmid2]) - self.hypamp
        self.set_amplitudes_ecode("amp2", config_data, reader_data, amp2)
        self._timings_to_ms(t, TIMINGS)
        if config_data.get("tend") is not None:
            self.tend = config_data["tend"]

    def _detect(
        self, t: Any, current: Any, smooth: np.ndarray, config_data: Metadata
    ) -> None:
        """Detect both steps (config amplitudes are ignored in this mode)."""
        threshold = detection.edge_threshold(current, detection.SAHP_NOISE_FACTOR)
        buffer = detection.buffer_samples(self.dt)
        self.hypamp = detection.base_current(current)
        deviation = np.abs(smooth - self.hypamp)

        if config_data.get("ton") is not None:
            ton = self.ms_to_index(config_data["ton"])
        else:
            ton = detection.first_crossing(deviation, threshold, buffer)
        window = deviation[ton : len(smooth) - buffer] > threshold
        toff = ton + len(window) - 1 - int(np.argmax(window[::-1]))

        margin = INNER_MARGIN
        edges = np.concatenate(
            (smooth[ton : ton + margin], smooth[toff - margin : toff])
        )
        self.amp = detection.median(edges) - self.hypamp
        inner = np.abs(smooth[ton + margin : toff - margin] - (self.hypamp + self.amp))
        inner = inner > threshold
        tmid = ton + margin + int(np.argmax(inner))
        tmid2 = ton + margin + len(inner) - 1 - int(np.argmax(inner[::-1]))
        self.amp2 = detection.median(smooth[tmid:tmid2]) - self.hypamp

        self.ton, self.tmid, self.tmid2, self.toff = ton, tmid, tmid2, toff
        self._timings_to_ms(t, TIMINGS)
        self._check_detection()

    def _check_detection(self) -> None:
        if (
            self.ton >= self.toff
            or self.ton >= self.tend
            or self.toff > self.tend
            or self.tmid == self.ton
            or self.tmid2 == self.toff
        ):
            self._detection_failed("ton, tmid, tmid2 and toff")

    def generate(self) -> tuple[np.ndarray, np.ndarray]:
        """Rebuild the stimulus: ``(t, current)``, ms and nA."""
        ton_idx, tmid_idx, tmid2_idx, toff_idx = self._indices(*TIMINGS)
        t, current = self._holding_trace()
        current[ton_idx:tmid_idx] += np.float64(self.amp)
        current[tmid2_idx:toff_idx] += np.float64(self.amp)
        current[tmid_idx:tmid2_idx] += np.float64(self.amp2)
        return t, current
