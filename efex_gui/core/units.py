"""Unit conversion to the core's internal units: ms, mV and nA (spec §3.2.1).

The accepted spellings and factors are BluePyEfe's, so metadata written for it reads
the same; anything else raises :class:`~efex_gui.core.errors.UnitError` naming the
unit and what it was meant to measure.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from efex_gui.core.errors import UnitError

#: case-insensitive spellings -> factor
_TIME_CI = {"s": 1e3, "sec": 1e3, "seconds": 1e3}
_CURRENT_CI = {"a": 1e9, "amperes": 1e9, "amps": 1e9}
_VOLTAGE_CI = {"v": 1e3, "volts": 1e3}
#: exact-case spellings -> factor
_TIME_EXACT = {"ms": 1, "10th_ms": 0.1}
_CURRENT_EXACT = {"mA": 1e6, "uA": 1e3, "pA": 1e-3, "nA": 1}
_VOLTAGE_EXACT = {"uV": 1e-3, "mV": 1}

#: The one list of unit spellings offered per metadata key, in menu order (the GUI's
#: unit menus, the unit plausibility checks). Each is accepted by the tables above.
UNIT_CHOICES: dict[str, tuple[str, ...]] = {
    "t_unit": ("s", "ms", "10th_ms"),
    "i_unit": ("pA", "nA", "uA", "mA", "A"),
    "v_unit": ("mV", "V", "uV"),
}


def _factor(
    unit: Any, ci: dict[str, float], exact: dict[str, float], kind: str
) -> float:
    if isinstance(unit, bytes):
        unit = unit.decode()
    if not isinstance(unit, str):
        raise UnitError(f"{kind} unit {unit!r} is unknown.")
    if unit.lower() in ci:
        return ci[unit.lower()]
    if unit in exact:
        return exact[unit]
    raise UnitError(f"{kind} unit '{unit}' is unknown.")


def time_factor_to_ms(unit: Any) -> float:
    """Return the factor that converts a time in ``unit`` to ms."""
    return _factor(unit, _TIME_CI, _TIME_EXACT, "Time")


def current_factor_to_na(unit: Any) -> float:
    """Return the factor that converts a current in ``unit`` to nA."""
    return _factor(unit, _CURRENT_CI, _CURRENT_EXACT, "Current")


def voltage_factor_to_mv(unit: Any) -> float:
    """Return the factor that converts a voltage in ``unit`` to mV."""
    return _factor(unit, _VOLTAGE_CI, _VOLTAGE_EXACT, "Voltage")


def to_ms(value: Any, unit: Any) -> Any:
    """Convert a time value or array from ``unit`` to ms."""
    return _scaled(value, time_factor_to_ms(unit))


def to_na(value: Any, unit: Any) -> Any:
    """Convert a current value or array from ``unit`` to nA."""
    return _scaled(value, current_factor_to_na(unit))


def to_mv(value: Any, unit: Any) -> Any:
    """Convert a voltage value or array from ``unit`` to mV."""
    return _scaled(value, voltage_factor_to_mv(unit))


def _scaled(value: Any, factor: float) -> Any:
    """Return ``value * factor``; a sequence becomes a NumPy array first."""
    return np.asarray(value) * factor if np.ndim(value) else value * factor


def is_known_unit(unit: Any, kind: str) -> bool:
    """Whether ``unit`` is an accepted spelling of ``kind`` (time, current, voltage)."""
    fn = {
        "time": time_factor_to_ms,
        "current": current_factor_to_na,
        "voltage": voltage_factor_to_mv,
    }[kind]
    try:
        fn(unit)
    except UnitError:
        return False
    return True
