"""Unit plausibility: declared units that do not fit the values get a proposed fix."""

from __future__ import annotations

import numpy as np

from efex_gui.core.recordings.unit_checks import check_metadata, check_units


def _trace(v_mv: float = -70.0, step_na: float = 0.2) -> tuple[np.ndarray, np.ndarray]:
    voltage = np.full(1000, v_mv) + np.linspace(0, 5, 1000)
    current = np.zeros(1000)
    current[300:700] = step_na
    return voltage, current


def test_plausible_units_give_no_suggestion() -> None:
    voltage, current = _trace()
    assert check_units(voltage, current, "mV", "nA") == []
    assert check_units(voltage / 1000, current * 1e-9, "V", "A") == []
    assert check_units(voltage, current * 1000, "mV", "pA") == []


def test_volts_labelled_millivolts_look_like_v() -> None:
    voltage, current = _trace()
    (suggestion,) = check_units(voltage / 1000, current, "mV", "nA")
    assert suggestion.quantity == "voltage"
    assert suggestion.proposed == "V"
    assert "looks like" in suggestion.message


def test_current_1000x_off_gets_the_neighbouring_unit() -> None:
    voltage, current = _trace()
    (too_big,) = check_units(voltage, current * 1000, "mV", "nA")
    assert too_big.quantity == "current"
    assert too_big.proposed == "pA"
    (too_small,) = check_units(voltage, current, "mV", "pA")
    assert too_small.proposed == "nA"


def test_zero_current_and_unknown_units() -> None:
    voltage, _ = _trace()
    assert check_units(voltage, np.zeros(10), "mV", "nA") == []
    (unknown,) = check_units(voltage, np.zeros(10), "millivolt", "nA")
    assert unknown.proposed is None
    assert "unknown" in unknown.message


def test_check_metadata() -> None:
    assert check_metadata({"filepath": "a.nwb", "dt": 0.1, "ton": 1, "toff": 2}) == []
    problems = check_metadata({"dt": 0, "ton": 5, "toff": 2})
    assert len(problems) == 3


def test_every_offered_unit_is_understood() -> None:
    """The one unit list (GUI menus, unit checks) holds only readable spellings."""
    from efex_gui.core.units import (
        UNIT_CHOICES,
        current_factor_to_na,
        time_factor_to_ms,
        voltage_factor_to_mv,
    )

    factors = {
        "t_unit": time_factor_to_ms,
        "i_unit": current_factor_to_na,
        "v_unit": voltage_factor_to_mv,
    }
    assert set(UNIT_CHOICES) == set(factors)
    for key, units in UNIT_CHOICES.items():
        assert [factors[key](unit) > 0 for unit in units] == [True] * len(units)
