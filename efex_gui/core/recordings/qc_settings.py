"""The automatic sweep QC checks, their defaults, and the person's settings.

Each check has a name, a unit, a default threshold and a switch; a sweep is flagged by
a check when its value exceeds the threshold (every check reads "larger is worse").
The settings are a typed dataclass saved in the session and in the provenance
(:meth:`QCSettings.to_dict` / :meth:`QCSettings.from_dict`). QC never excludes a sweep
by itself: the person decides (the GUI's "Exclude all flagged by <check>").

The first four checks are the Allen Institute IPFX current-clamp sweep criteria
(``ipfx/defaults/qc_criteria.json``: pre/post noise RMS 0.07 mV over 1.5 ms, slow
noise RMS 0.5 mV over the 500 ms before the stimulus, Vm delta 1 mV); their defaults
here are calibrated on the shared recordings (docs in /work/notes/issue-12.md and
``benchmarks/qc_flag_rates.py``), since older rigs and long recordings are noisier than
the Allen pipeline's.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from efex_gui.core.errors import SettingsError

__all__ = ["CHECKS", "QCCheck", "QCSettings"]


@dataclass(frozen=True)
class QCCheck:
    """One QC check: its name, what it measures and its default threshold."""

    name: str
    label: str
    unit: str
    default: float
    description: str


CHECKS: tuple[QCCheck, ...] = (
    QCCheck("pre_noise_rms", "Pre-stimulus noise", "mV", 1.0,
            "Detrended RMS of the voltage over the first 1.5 ms (IPFX pre-noise)."),
    QCCheck("post_noise_rms", "Post-stimulus noise", "mV", 1.0,
            "Detrended RMS of the voltage over the last 1.5 ms (IPFX post-noise)."),
    QCCheck("slow_noise_rms", "Slow noise", "mV", 1.5,
            "RMS of the voltage in the 500 ms before the stimulus (IPFX slow noise)."),
    QCCheck("vm_delta", "Vm before vs end", "mV", 5.0,
            "|Vm before the stimulus - Vm at the end of the sweep| (IPFX Vm delta)."),
    QCCheck("baseline_vm_offset", "Baseline far from the cell's", "mV", 8.0,
            "|baseline Vm - the median baseline Vm of the cell's sweeps|."),
    QCCheck("holding_change", "Holding current change", "nA", 0.1,
            "|current before the stimulus - its median over the protocol's sweeps|."),
    QCCheck("clipping", "Clipped at a rail", "samples", 20.0,
            "Longest run of samples stuck at the trace's maximum or minimum."),
    QCCheck("line_noise", "50/60 Hz line noise", "mV", 0.5,
            "Amplitude of the 50 or 60 Hz sine in the pre-stimulus voltage."),
    QCCheck("spike_rundown", "Spike height rundown", "mV", 15.0,
            "Drop of the spike peak below that of the cell's first spiking sweeps."),
    QCCheck("window_disagreement", "Own step disagrees", "ms", 5.0,
            "Distance of the sweep's own step edges from the protocol's window."),
    QCCheck("amplitude_series", "Amplitude off the series", "steps", 0.4,
            "Distance of the amplitude from the protocol's amplitude grid, in steps."),
)  # fmt: skip
_BY_NAME = {check.name: check for check in CHECKS}


@dataclass
class QCSettings:
    """Which checks run and their thresholds.

    Attributes
    ----------
    enabled : dict
        Check name → switched on (default: all on).
    thresholds : dict
        Check name → threshold, in the check's unit (default: :data:`CHECKS`).
    """

    enabled: dict[str, bool] = field(
        default_factory=lambda: {c.name: True for c in CHECKS}
    )
    thresholds: dict[str, float] = field(
        default_factory=lambda: {c.name: c.default for c in CHECKS}
    )

    def is_enabled(self, name: str) -> bool:
        """Whether the check ``name`` runs."""
        return bool(self.enabled.get(name, True))

    def threshold(self, name: str) -> float:
        """Return the threshold of the check ``name``."""
        return float(self.thresholds.get(name, _BY_NAME[name].default))

    def to_dict(self) -> dict[str, Any]:
        """Return ``{check: {"enabled": bool, "threshold": float}}`` (JSON-ready)."""
        return {
            c.name: {
                "enabled": self.is_enabled(c.name),
                "threshold": self.threshold(c.name),
            }
            for c in CHECKS
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> QCSettings:
        """Build settings from :meth:`to_dict`'s form (missing checks: defaults).

        Raises
        ------
        SettingsError
            An unknown check, or a threshold that is not a non-negative number.
        """
        settings = cls()
        for name, values in (data or {}).items():
            if name not in _BY_NAME:
                raise SettingsError(
                    f"QC settings: unknown check {name!r} (known: "
                    f"{', '.join(_BY_NAME)})."
                )
            values = values if isinstance(values, Mapping) else {}
            if "enabled" in values:
                settings.enabled[name] = bool(values["enabled"])
            if values.get("threshold") is not None:
                settings.thresholds[name] = _threshold(name, values["threshold"])
        return settings


def _threshold(name: str, value: Any) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = float("nan")
    if not number >= 0:
        raise SettingsError(
            f"QC settings: the threshold of {name!r} must be a number >= 0, got "
            f"{value!r}."
        )
    return number
