"""PosCheops and NegCheops eCodes: three triangular pulses (spec §3.5.6).

The pulses ramp up then down on ``[ton, t1]``, ``[t2, t3]`` and ``[t4, toff]``; all six
timings come from the metadata (BluePyEfe 2.3.63 falls back to default timings,
written into the metadata, when one is missing).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from efex_gui.core.recordings.ecodes import detection
from efex_gui.core.recordings.ecodes.base import TimedECode

if TYPE_CHECKING:
    from efex_gui.core.recordings.recording import Metadata, Trace

TIMINGS = ("ton", "t1", "t2", "t3", "t4", "toff")


class PosCheops(TimedECode):
    """Three depolarising triangular pulses; ``amp`` = peak above holding.

    The parameters are :class:`~efex_gui.core.recordings.ecodes.base.ECode`'s;
    ``config_data`` gives ``ton, t1, t2, t3, t4, toff`` (ms).
    """

    # its own attributes, held in slots like Recording's
    __slots__ = ("t1", "t2", "t3", "t4")

    # set by the constructor (None until interpreted; ms / nA / % of the rheobase)
    t1: Any
    t2: Any
    t3: Any
    t4: Any
    _exported = (*TIMINGS, "tend", "amp", "hypamp", "dt", "amp_rel", "hypamp_rel")
    timings = TIMINGS

    default_timings: ClassVar[dict[str, float]] = {
        "ton": 250.0, "t1": 8250.0, "t2": 10250.0, "t3": 14250.0, "t4": 16250.0,
        "toff": 18916.0,
    }  # fmt: skip

    default_protocol_name = "PosCheops"

    def get_stimulus_parameters(self) -> dict[str, Any]:
        """Stimulus description for protocols.json."""
        return {
            "delay": self.ton,
            "t1": self.t1,
            "t2": self.t2,
            "t3": self.t3,
            "t4": self.t4,
            "toff": self.toff,
            "amp": self.amp,
            "thresh_perc": self.amp_rel,
            "duration": self.toff - self.ton,
            "totduration": self.tend,
        }

    @staticmethod
    def _peak(smooth: np.ndarray) -> Any:
        return np.max(smooth)

    def measure(
        self, smooth: np.ndarray, config_data: Metadata, reader_data: Trace
    ) -> None:
        """Measure the holding before ``ton``, then the peak above it."""
        hypamp = detection.median(smooth[: self.ton])
        self.set_amplitudes_ecode("hypamp", config_data, reader_data, hypamp)
        amp = self._peak(smooth) - self.hypamp
        self.set_amplitudes_ecode("amp", config_data, reader_data, amp)

    def generate(self) -> tuple[np.ndarray, np.ndarray]:
        """Rebuild the stimulus: ``(t, current)``, ms and nA."""
        idx = self._indices(*TIMINGS)
        t, current = self._holding_trace()
        for start, end in ((idx[0], idx[1]), (idx[2], idx[3]), (idx[4], idx[5])):
            mid = start + (end - start) // 2
            current[start:mid] += np.linspace(0.0, self.amp, mid - start)
            current[mid:end] += np.linspace(self.amp, 0.0, end - mid)
        return t, current


class NegCheops(PosCheops):
    """Three hyperpolarising triangular pulses; ``amp`` = trough below holding."""

    default_timings: ClassVar[dict[str, float]] = {
        "ton": 1750.0, "t1": 8416.0, "t2": 10416.0, "t3": 13748.0, "t4": 15748.0,
        "toff": 17970.0,
    }  # fmt: skip

    default_protocol_name = "NegCheops"

    @staticmethod
    def _peak(smooth: np.ndarray) -> Any:
        return np.min(smooth)
