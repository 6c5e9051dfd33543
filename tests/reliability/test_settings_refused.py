"""Impossible targets and settings are refused before any file is read.

The files_metadata points at a file that does not exist: if a check ran after
reading, the run would instead skip the file and fail later (or return nothing). Each
error is ours, keeps BluePyEfe's exception type as a base, and names the value.
"""

from __future__ import annotations

import math
from typing import Any

import pytest

from efex_gui.core.errors import RheobaseSettingsError, SettingsError, TargetError
from efex_gui.core.features import UnknownFeatureError
from efex_gui.core.rheobase.strategies import compute_rheobase
from efex_gui.extract import extract_efeatures
from tests.reliability.conftest import TARGETS, extraction_kwargs

NOWHERE = {"cell": {"IDRest": [{"filepath": "/nonexistent/never_read.nwb"}]}}


def _target(**changes: Any) -> list[dict[str, Any]]:
    return [dict(TARGETS[0], **changes), dict(TARGETS[1])]


TARGET_CASES = {
    "negative tolerance": (_target(tolerance=-5), TargetError, "negative tolerance -5"),
    "NaN tolerance": (_target(tolerance=math.nan), TargetError, "tolerance nan"),
    "NaN amplitude": (_target(amplitude=math.nan), TargetError, "amplitude nan"),
    "inf amplitude": (_target(amplitude=math.inf), TargetError, "amplitude inf"),
    "text amplitude": (_target(amplitude="150"), TargetError, "amplitude '150'"),
    "unknown feature": (
        _target(efeature="Spikecount_typo"),
        UnknownFeatureError,
        "Unknown feature name: Spikecount_typo",
    ),
    "missing key": (
        [{k: v for k, v in TARGETS[0].items() if k != "tolerance"}],
        TargetError,
        "lacks the key 'tolerance'",
    ),
}


@pytest.mark.parametrize("case", sorted(TARGET_CASES))
def test_impossible_targets_are_refused_naming_the_value(case: str) -> None:
    targets, error, message = TARGET_CASES[case]
    with pytest.raises(error, match=message) as info:
        extract_efeatures(None, NOWHERE, **extraction_kwargs(targets=targets))
    assert "Target #0" in str(info.value)
    assert "'IDRest'" in str(info.value)
    assert isinstance(info.value, ValueError | RuntimeError)


SETTING_CASES = {
    "unknown rheobase strategy": (
        {"rheobase_strategy": "median"},
        SettingsError,
        "Rheobase strategy median unknown",
    ),
    "unknown rheobase setting": (
        {"rheobase_strategy": "majority", "rheobase_settings": {"min_stp": 0.1}},
        RheobaseSettingsError,
        "'min_stp' is not a setting of the 'majority' strategy",
    ),
    "negative threshold_nvalue_save": (
        {"threshold_nvalue_save": -1},
        SettingsError,
        "threshold_nvalue_save=-1",
    ),
    "fractional threshold_nvalue_save": (
        {"threshold_nvalue_save": 1.5},
        SettingsError,
        "threshold_nvalue_save=1.5",
    ),
    "unknown protocol_mode": (
        {"protocol_mode": "mode"},
        SettingsError,
        "protocol_mode 'mode' is unknown",
    ),
    "lnmc protocol_mode": ({"protocol_mode": "lnmc"}, SettingsError, "lnmc"),
    "negative default_std_value": (
        {"default_std_value": -0.1},
        SettingsError,
        "default_std_value=-0.1",
    ),
    "NaN default_std_value": (
        {"default_std_value": math.nan},
        SettingsError,
        "default_std_value=nan",
    ),
    "efel_settings not a dict": (
        {"efel_settings": ["Threshold", -20]},
        SettingsError,
        "efel_settings must be a dict",
    ),
}


@pytest.mark.parametrize("case", sorted(SETTING_CASES))
def test_impossible_settings_are_refused_naming_the_value(case: str) -> None:
    settings, error, message = SETTING_CASES[case]
    with pytest.raises(error, match=message):
        extract_efeatures(None, NOWHERE, **extraction_kwargs(**settings))


def test_bluepyefe_exception_types_are_kept() -> None:
    """Scripts catching what BluePyEfe raises keep working (spec §2.1, §3.2.5)."""
    assert issubclass(UnknownFeatureError, RuntimeError)  # efel's type
    assert issubclass(RheobaseSettingsError, TypeError)  # unexpected keyword
    assert issubclass(SettingsError, ValueError)  # protocol_mode 'lnmc'
    with pytest.raises(TypeError, match="min_stp"):
        compute_rheobase([], ["IDRest"], "majority", {"min_stp": 0.1})
    with pytest.raises(ValueError, match="bogus"):
        compute_rheobase([], ["IDRest"], "bogus")


def test_threshold_nvalue_save_zero_is_refused(files_metadata: dict) -> None:
    """BluePyEfe accepts 0 and then keeps unmatched targets (§9.1-12): refused here."""
    with pytest.raises(SettingsError, match="threshold_nvalue_save=0"):
        extract_efeatures(
            None, files_metadata, **extraction_kwargs(threshold_nvalue_save=0)
        )


def test_rheobase_settings_are_not_checked_in_absolute_mode(
    files_metadata: dict,
) -> None:
    """Absolute amplitudes compute no rheobase, so BluePyEfe never looks at them."""
    targets = [dict(t, amplitude=0.3, tolerance=0.1) for t in TARGETS[:1]]
    features, _, _ = extract_efeatures(
        None,
        files_metadata,
        **extraction_kwargs(
            targets=targets, absolute_amplitude=True, rheobase_strategy="unused"
        ),
    )
    assert isinstance(features, dict)
