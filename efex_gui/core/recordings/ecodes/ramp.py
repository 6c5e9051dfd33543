"""Ramp eCode: Ramp, APThreshold (spec §3.5.2).

Stimulus model: a linear ramp from the holding current at ``ton`` to
``hypamp + amp`` at ``toff``, then back to holding. ``ton`` must be in the metadata;
``toff`` defaults to the position of the smoothed current's maximum.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from efex_gui.core.recordings.ecodes import detection
from efex_gui.core.recordings.ecodes.base import WINDOW_PARAMETERS, ECode

if TYPE_CHECKING:
    from efex_gui.core.recordings.recording import Metadata, Trace


class Ramp(ECode):
    """A linear current ramp on top of a holding current.

    The parameters are :class:`~efex_gui.core.recordings.ecodes.base.ECode`'s;
    ``config_data`` needs ``ton`` (ms), ``toff`` is optional.
    """

    _exported = WINDOW_PARAMETERS

    default_protocol_name = "ramp"

    def interpret(
        self, t: Any, current: Any, config_data: Metadata, reader_data: Trace
    ) -> None:
        """Find ``ton``, ``toff``, ``hypamp`` and ``amp``."""
        self.set_timing_ecode(["ton"], config_data)
        smooth = detection.smooth(current)
        if config_data.get("toff") is not None:
            self.set_timing_ecode(["toff"], config_data)
        else:
            self.toff = self.ton + int(np.argmax(smooth[self.ton :]))

        self.set_amplitudes_ecode(
            "hypamp", config_data, reader_data, detection.base_current(current)
        )
        amp = detection.median(current[self.toff - 10 : self.toff]) - self.hypamp
        self.set_amplitudes_ecode("amp", config_data, reader_data, amp)

        self._timings_to_ms(t, ("ton", "toff"))

    def generate(self) -> tuple[np.ndarray, np.ndarray]:
        """Rebuild the stimulus: ``(t, current)``, ms and nA."""
        ton_idx, toff_idx = self._indices("ton", "toff")
        t, current = self._holding_trace()
        current[ton_idx:toff_idx] += np.linspace(0.0, self.amp, toff_idx - ton_idx)
        return t, current
