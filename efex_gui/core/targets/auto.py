"""Automatic targets: pick protocols and amplitudes from what the cells recorded.

:class:`AutoTarget` and :func:`default_auto_targets` are BluePyEfe's
``bluepyefe.auto_targets`` (spec §5.6). An AutoTarget lists protocols and amplitudes in
order of preference; after the rheobase is known it looks at the relative amplitudes of
the recordings and keeps the first (protocol, amplitude) pairs that enough recordings
reach. As in BluePyEfe the selections accumulate over calls (§9.1-18): call
:meth:`AutoTarget.reset` (or let the pipeline copy the objects) to start afresh.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from efex_gui.core.rheobase.strategies import STEP_PROTOCOL_NAMES

if TYPE_CHECKING:
    from collections.abc import Iterable

__all__ = ["AutoTarget", "default_auto_targets"]


@dataclass(eq=False)  # compared by identity, as BluePyEfe's class
class AutoTarget:
    """Targets whose protocol and amplitude are chosen from the available recordings.

    Parameters
    ----------
    protocols : list of str
        Protocol names, most preferred first (matched exactly).
    amplitudes : list of float
        Amplitudes in % of rheobase, most preferred first.
    efeatures : list of str
        efel feature names to extract at every selected pair.
    min_recordings_per_amplitude : int
        Recordings needed within the tolerance for a pair to be selected.
    preferred_number_protocols : int
        How many (protocol, amplitude) pairs to keep at most.
    tolerance : float
        Half-width of the amplitude window, in %.

    Attributes
    ----------
    active_ecode, active_amplitudes : list
        The selected (protocol, amplitude) pairs
        (:meth:`select_ecode_and_amplitude`).
    """

    protocols: list[str]
    amplitudes: list[float]
    efeatures: list[str]
    min_recordings_per_amplitude: int = 10
    preferred_number_protocols: int = 1
    tolerance: float = 10
    active_amplitudes: list[float] = field(default_factory=list, init=False)
    active_ecode: list[str] = field(default_factory=list, init=False)

    def reset(self) -> None:
        """Forget the selected (protocol, amplitude) pairs."""
        self.active_amplitudes = []
        self.active_ecode = []

    def select_ecode_and_amplitude(self, recordings: Iterable[Any]) -> None:
        """Select the (protocol, amplitude) pairs reached by enough recordings.

        Appends to ``active_ecode`` / ``active_amplitudes`` (never resets them), then
        keeps the first ``preferred_number_protocols`` pairs, protocol-first order.

        Parameters
        ----------
        recordings : iterable of Recording
            All recordings of all cells, with ``amp_rel`` computed.
        """
        recordings = list(recordings)
        for protocol in self.protocols:
            amps = [
                rec.amp_rel
                for rec in recordings
                if rec.protocol_name == protocol and rec.amp_rel is not None
            ]
            for amplitude in self.amplitudes:
                count = sum(abs(a - amplitude) < self.tolerance for a in amps)
                if count >= self.min_recordings_per_amplitude:
                    self.active_ecode.append(protocol)
                    self.active_amplitudes.append(amplitude)
        keep = self.preferred_number_protocols
        self.active_ecode = self.active_ecode[:keep]
        self.active_amplitudes = self.active_amplitudes[:keep]

    def is_valid(self) -> bool:
        """Whether at least one (protocol, amplitude) pair was selected."""
        return bool(self.active_amplitudes) and bool(self.active_ecode)

    def generate_targets(self) -> list[dict[str, Any]]:
        """Return one target dict per selected pair and e-feature.

        Returns
        -------
        list of dict
            ``{"efeature", "protocol", "amplitude", "tolerance"}`` dicts.
        """
        return [
            {
                "efeature": efeature,
                "protocol": protocol,
                "amplitude": amplitude,
                "tolerance": self.tolerance,
            }
            for protocol, amplitude in zip(
                self.active_ecode, self.active_amplitudes, strict=False
            )
            for efeature in self.efeatures
        ]


_STEP_PROTOCOLS = [*STEP_PROTOCOL_NAMES, "IV"]

_FIRING_PATTERN_FEATURES = [
    "voltage_base",
    "adaptation_index2",
    "mean_frequency",
    "time_to_first_spike",
    "time_to_last_spike",
    "inv_first_ISI",
    "inv_second_ISI",
    "inv_third_ISI",
    "inv_fourth_ISI",
    "inv_fifth_ISI",
    "inv_last_ISI",
    "ISI_CV",
    "ISI_log_slope",
    "doublet_ISI",
    "AP_amplitude",
    "AP1_amp",
    "APlast_amp",
    "AHP_depth",
    "AHP_time_from_peak",
]

_AP_WAVEFORM_FEATURES = [
    "AP_amplitude",
    "AP1_amp",
    "AP2_amp",
    "AP_width",
    "AP_duration_half_width",
    "AP_rise_time",
    "AP_fall_time",
    "AHP_depth_abs",
    "AHP_time_from_peak",
    "AHP_depth",
]

_IV_FEATURES = [
    "voltage_base",
    "steady_state_voltage_stimend",
    "ohmic_input_resistance_vb_ssse",
    "voltage_deflection",
    "voltage_deflection_begin",
    "decay_time_constant_after_stim",
    "Spikecount",
    "sag_ratio1",
    "sag_ratio2",
    "sag_amplitude",
    "sag_time_constant",
]


def default_auto_targets() -> list[AutoTarget]:
    """Return BluePyEfe's three default AutoTargets (fresh objects at every call).

    Returns
    -------
    list of AutoTarget
        Firing pattern (19 features), AP waveform (10) and IV (11) targets.
    """
    return [
        AutoTarget(
            protocols=list(_STEP_PROTOCOLS),
            amplitudes=[200, 150, 250, 300],
            efeatures=list(_FIRING_PATTERN_FEATURES),
            min_recordings_per_amplitude=1,
            preferred_number_protocols=2,
            tolerance=25.0,
        ),
        AutoTarget(
            protocols=["APWaveform", "APwaveform", *_STEP_PROTOCOLS],
            amplitudes=[300, 350, 250, 400, 200],
            efeatures=list(_AP_WAVEFORM_FEATURES),
            min_recordings_per_amplitude=1,
            preferred_number_protocols=1,
            tolerance=25.0,
        ),
        AutoTarget(
            protocols=["IV", "Step"],
            amplitudes=[-50, -100],
            efeatures=list(_IV_FEATURES),
            min_recordings_per_amplitude=1,
            preferred_number_protocols=1,
            tolerance=10.0,
        ),
    ]
