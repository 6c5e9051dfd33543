"""SineSpec eCode: a chirp (spec §3.5.8, Appendix A item 4).

Without ``ton``/``toff`` in the metadata BluePyEfe uses 150 and 5100 as *sample
indices* (its message says ms); that quirk is kept. The chirp constants are read
from the metadata (config, then reader) with BluePyEfe 2.3.63's defaults and are
exported to protocols.json.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from efex_gui.core.recordings.ecodes import detection
from efex_gui.core.recordings.ecodes.base import WINDOW_PARAMETERS, ECode

if TYPE_CHECKING:
    from efex_gui.core.recordings.recording import Metadata, Trace

#: Default ton / toff, used as sample indices (BluePyEfe's quirk).
DEFAULT_TON_INDEX = 150
DEFAULT_TOFF_INDEX = 5100
#: Chirp constants and their defaults (2.3.63).
CHIRP_DEFAULTS = {
    "chirp_frequency_base": 1.0,
    "chirp_frequency_scale": 1.0,
    "chirp_frequency_denominator": 5.15,
    "chirp_time_offset": 0.1,
}


class SineSpec(ECode):
    """A chirp current between ``ton`` and ``toff``.

    The parameters are :class:`~efex_gui.core.recordings.ecodes.base.ECode`'s;
    ``config_data`` may give ``ton``/``toff`` (ms) and the chirp constants.
    """

    # its own attributes (the chirp constants), in slots like Recording's
    __slots__ = tuple(CHIRP_DEFAULTS)

    # the chirp constants, set from CHIRP_DEFAULTS by _init_parameters
    chirp_time_offset: float
    chirp_frequency_base: float
    chirp_frequency_scale: float
    chirp_frequency_denominator: float
    _attributes = WINDOW_PARAMETERS
    _exported = (*_attributes, *CHIRP_DEFAULTS)

    default_protocol_name = "SineSpec"

    def _init_parameters(self, config_data: Metadata, reader_data: Trace) -> None:
        """Set the chirp constants: config, else reader, else BluePyEfe's defaults."""
        for key, default in CHIRP_DEFAULTS.items():
            value = config_data.get(key)
            if value is None:
                value = reader_data.get(key)
            setattr(self, key, default if value is None else value)

    def get_stimulus_parameters(self) -> dict[str, Any]:
        """Step keys plus the four chirp constants."""
        params = super().get_stimulus_parameters()
        params.update({key: getattr(self, key) for key in CHIRP_DEFAULTS})
        return params

    def interpret(
        self, t: Any, current: Any, config_data: Metadata, reader_data: Trace
    ) -> None:
        """Interpret timings from metadata (else 150 / 5100 samples), then amplitude."""
        for name, default in (("ton", DEFAULT_TON_INDEX), ("toff", DEFAULT_TOFF_INDEX)):
            if config_data.get(name) is not None:
                self.set_timing_ecode([name], config_data)
            else:
                self.warn(
                    f"As {name} was not specified for protocol "
                    f"{self.protocol_name}, it will be set to {default} samples "
                    f"({default * self.dt} ms), BluePyEfe's default."
                )
                setattr(self, name, default)

        smooth = detection.smooth(current)
        self.set_amplitudes_ecode(
            "hypamp", config_data, reader_data, detection.base_current(current)
        )
        self.set_amplitudes_ecode(
            "amp", config_data, reader_data, np.max(smooth) - self.hypamp
        )
        self._timings_to_ms(t, ("ton", "toff"))

    def generate(self) -> tuple[np.ndarray, np.ndarray]:
        """Rebuild the stimulus: ``(t, current)``, ms and nA."""
        t, current = self._holding_trace()
        tau = t / 1000.0 - self.chirp_time_offset
        with np.errstate(all="ignore"):
            frequency = self.chirp_frequency_base + self.chirp_frequency_scale / (
                self.chirp_frequency_denominator - tau
            )
            chirp = self.amp * np.sin(2.0 * np.pi * frequency * tau)
        ton_idx, toff_idx = self._indices("ton", "toff")
        current[ton_idx:toff_idx] += chirp[ton_idx:toff_idx]
        return t, current
