"""HyperDePol and DeHyperPol eCodes: two consecutive steps (spec §3.5.4, §3.5.5).

HyperDePol: a hyperpolarising ``amp`` on ``[ton, tmid)`` then a depolarising ``amp2``
on ``[tmid, toff)``; DeHyperPol the other way round. Targets match the first step.
Timings come from the metadata; for HyperDePol, BluePyEfe 2.3.63 falls back to
default timings (written into the metadata) when one is missing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from efex_gui.core.recordings.ecodes import detection
from efex_gui.core.recordings.ecodes.base import TimedECode

if TYPE_CHECKING:
    from efex_gui.core.recordings.recording import Metadata, Trace

TIMINGS = ("ton", "tmid", "toff")


class HyperDePol(TimedECode):
    """Two consecutive steps; ``amp`` (first) is the matched amplitude.

    The parameters are :class:`~efex_gui.core.recordings.ecodes.base.ECode`'s;
    ``config_data`` gives ``ton``, ``tmid``, ``toff`` (ms).
    """

    # its own attributes, held in slots like Recording's
    __slots__ = (
        "amp2",
        "amp2_rel",
        "tmid",
    )

    # set by the constructor (None until interpreted; ms / nA / % of the rheobase)
    tmid: Any
    amp2: Any
    amp2_rel: Any
    _exported = (
        "ton", "tmid", "toff", "tend", "amp", "amp2", "hypamp", "dt", "amp_rel",
        "amp2_rel", "hypamp_rel",
    )  # fmt: skip
    relative_amplitudes = ("amp", "amp2", "hypamp")
    timings = TIMINGS

    default_timings: ClassVar[dict[str, float] | None] = {
        "ton": 250.0,
        "tmid": 700.0,
        "toff": 970.0,
    }

    default_protocol_name = "HyperDePol"

    @property
    def thresh_perc(self) -> Any:
        """The relative amplitude reported in protocols.json."""
        return self.amp_rel

    def get_stimulus_parameters(self) -> dict[str, Any]:
        """Stimulus description for protocols.json."""
        return {
            "delay": self.ton,
            "tmid": self.tmid,
            "toff": self.toff,
            "amp": self.amp,
            "amp2": self.amp2,
            "thresh_perc": self.thresh_perc,
            "duration": self.toff - self.ton,
            "totduration": self.tend,
        }

    def measure(
        self, smooth: np.ndarray, config_data: Metadata, reader_data: Trace
    ) -> None:
        """Measure the holding outside the stimulus, then both steps on it."""
        ton, tmid, toff = self.ton, self.tmid, self.toff
        hypamp = detection.median_outside(smooth, ton, toff)
        self.set_amplitudes_ecode("hypamp", config_data, reader_data, hypamp)
        amp = detection.median(smooth[ton:tmid]) - self.hypamp
        self.set_amplitudes_ecode("amp", config_data, reader_data, amp)
        amp2 = detection.median(smooth[tmid:toff]) - self.hypamp
        self.set_amplitudes_ecode("amp2", config_data, reader_data, amp2)

    def generate(self) -> tuple[np.ndarray, np.ndarray]:
        """Rebuild the stimulus: ``(t, current)``, ms and nA."""
        ton_idx, tmid_idx, toff_idx = self._indices(*TIMINGS)
        t, current = self._holding_trace()
        current[ton_idx:tmid_idx] += np.float64(self.amp)
        current[tmid_idx:toff_idx] += np.float64(self.amp2)
        return t, current


class DeHyperPol(HyperDePol):
    """Depolarising then hyperpolarising step.

    Matches on the first step (``amp``) but, like BluePyEfe, reports the second
    step's relative amplitude (``amp2_rel``) as ``thresh_perc``.
    """

    default_timings = None

    default_protocol_name = "DeHyperPol"

    @property
    def thresh_perc(self) -> Any:
        """BluePyEfe reports the second step's ``amp2_rel`` (spec §9.1-7)."""
        return self.amp2_rel
