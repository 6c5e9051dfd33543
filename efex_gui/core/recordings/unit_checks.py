"""Plausibility checks of metadata and units, with a proposed fix (formats.md T2).

Pure functions on values already in memory: nothing here opens a file.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from efex_gui.core.errors import EfexError, MetadataError
from efex_gui.core.importing.file_names import entry_file
from efex_gui.core.units import (
    UNIT_CHOICES,
    current_factor_to_na,
    voltage_factor_to_mv,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

#: plausible magnitudes after conversion: median |V| in mV, peak |I| in nA
_VOLTAGE_RANGE_MV = (1.0, 1000.0)
_CURRENT_RANGE_NA = (1e-3, 100.0)


@dataclass(frozen=True)
class UnitSuggestion:
    """A declared unit that looks wrong, and the unit that would fit the values."""

    quantity: str
    declared: str
    proposed: str | None
    message: str


def _propose(
    magnitude: float,
    declared: str,
    units: tuple[str, ...],
    factor: Callable[[str], float],
    bounds: tuple[float, float],
) -> str | None:
    """Propose the unit nearest ``declared`` that puts ``magnitude`` in bounds."""
    raw = magnitude  # in the declared unit
    fits = [u for u in units if bounds[0] <= raw * factor(u) <= bounds[1]]
    if not fits:
        return None
    return min(fits, key=lambda u: abs(np.log10(factor(u) / factor(declared))))


def check_units(
    voltage: Any, current: Any, v_unit: str, i_unit: str
) -> list[UnitSuggestion]:
    """Flag declared units that do not fit the values of a trace.

    A resting membrane potential has a magnitude of tens of mV, and a current-clamp
    step is between about a picoampere and a few nanoamperes. So a voltage whose
    median magnitude is below 1 mV after conversion "looks like V", and a current
    1000× too large or small looks like the neighbouring unit.

    Parameters
    ----------
    voltage, current : array-like
        The trace as read (in its declared units).
    v_unit, i_unit : str
        The declared units.

    Returns
    -------
    list of UnitSuggestion
        Empty when both units look right. ``proposed`` is None when no unit fits.
    """
    out: list[UnitSuggestion] = []
    v = np.asarray(voltage, dtype=float)
    v = v[np.isfinite(v)]
    if v.size:
        _check_one(
            out,
            "voltage",
            float(np.median(np.abs(v))),
            v_unit,
            UNIT_CHOICES["v_unit"],
            voltage_factor_to_mv,
            _VOLTAGE_RANGE_MV,
        )
    i = np.asarray(current, dtype=float)
    i = i[np.isfinite(i)]
    if i.size and np.any(i != 0):
        peak = float(np.max(np.abs(np.percentile(i, [0.5, 99.5]))))
        _check_one(
            out,
            "current",
            peak,
            i_unit,
            UNIT_CHOICES["i_unit"],
            current_factor_to_na,
            _CURRENT_RANGE_NA,
        )
    return out


def _check_one(
    out: list[UnitSuggestion],
    quantity: str,
    magnitude: float,
    declared: str,
    units: tuple[str, ...],
    factor: Callable[[str], float],
    bounds: tuple[float, float],
) -> None:
    try:
        converted = magnitude * factor(declared)
    except EfexError as exc:
        out.append(UnitSuggestion(quantity, declared, None, str(exc)))
        return
    if bounds[0] <= converted <= bounds[1] or magnitude == 0:
        return
    proposed = _propose(magnitude, declared, units, factor, bounds)
    unit_name = "mV" if quantity == "voltage" else "nA"
    hint = f' — looks like "{proposed}"' if proposed else ""
    out.append(
        UnitSuggestion(
            quantity,
            declared,
            proposed,
            f"{quantity} labelled {declared!r} is {converted:.3g} {unit_name}"
            f" in magnitude{hint}",
        )
    )


def check_metadata(config: Mapping[str, Any]) -> list[str]:
    """Cheap checks of an entry's metadata (no file access); reasons as text."""
    problems = []
    try:
        entry_file(config)
    except MetadataError as exc:
        problems.append(str(exc))
    if config.get("dt") is not None and not float(config["dt"]) > 0:
        problems.append(f"dt must be > 0, got {config['dt']}")
    if (
        config.get("ton") is not None
        and config.get("toff") is not None
        and float(config["toff"]) <= float(config["ton"])
    ):
        problems.append(f"toff ({config['toff']}) must be after ton ({config['ton']})")
    return problems
