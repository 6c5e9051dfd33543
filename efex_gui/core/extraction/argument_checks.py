"""Refuse impossible targets and settings before any file is read.

BluePyEfe accepts most impossible values and then silently extracts nothing (a NaN
amplitude or tolerance matches no sweep), crashes late (an unknown rheobase setting,
after every file is read) or computes nonsense (a negative ``default_std_value``).
These checks run at the start of an extraction, raise our error types (which keep
BluePyEfe's exception types as bases) and name the value.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

from efex_gui.core import features as _features
from efex_gui.core.errors import RheobaseSettingsError, SettingsError, TargetError
from efex_gui.core.rheobase.strategies import check_rheobase_settings

__all__ = [
    "RheobaseSettingsError",
    "check_rheobase_settings",
    "check_run_settings",
    "check_target_values",
]


def _is_real(value: Any) -> bool:
    try:
        return not isinstance(value, bool | str | bytes) and math.isfinite(value)
    except TypeError:
        return False


def _label(index: int, target: Mapping[str, Any]) -> str:
    return f"Target #{index} ({target.get('protocol')!r}, {target.get('efeature')!r})"


def check_target_values(targets: Iterable[Mapping[str, Any]]) -> None:
    """Refuse targets whose values can never match or compute anything.

    Parameters
    ----------
    targets : iterable of dict
        Targets in the list format (spec §5.1), already checked for their keys.

    Raises
    ------
    TargetError
        An amplitude or tolerance that is not a finite number, a negative tolerance,
        a feature name that is not a string.
    efex_gui.core.features.UnknownFeatureError
        efel does not know a feature (also a ``TargetError`` and a ``RuntimeError``,
        what efel raises).
    """
    for index, target in enumerate(targets):
        for key in ("amplitude", "tolerance"):
            value = target.get(key)
            if not _is_real(value):
                raise TargetError(
                    f"{_label(index, target)} has {key} {value!r}: it must be a "
                    "finite number (in % of the rheobase, or in nA with "
                    "absolute_amplitude)."
                )
        if target["tolerance"] < 0:
            raise TargetError(
                f"{_label(index, target)} has a negative tolerance "
                f"{target['tolerance']}."
            )
        name = target.get("efeature")
        if not isinstance(name, str) or not name:
            raise TargetError(f"{_label(index, target)}: efeature must be a name.")
        if _features.check_features([name]):
            raise _features.UnknownFeatureError(
                f"Unknown feature name: {name} ({_label(index, target)})"
            )


def check_run_settings(
    *,
    threshold_nvalue_save: Any = 1,
    rheobase_strategy: str | None = "absolute",
    rheobase_settings: Mapping[str, Any] | None = None,
    default_std_value: Any = 1e-3,
    efel_settings: Any = None,
) -> None:
    """Refuse impossible extraction settings (keyword-only, the API's names).

    ``rheobase_strategy=None`` skips the rheobase checks (absolute amplitudes, where
    no rheobase is computed).

    ``threshold_nvalue_save`` must be a whole number >= 1: BluePyEfe accepts 0, which
    keeps targets that no sweep matched (``val`` NaN, or a crash when a whole protocol
    is empty; docs/compatibility.md §9.1-12), so 0 is refused here.

    Raises
    ------
    SettingsError
        Naming the setting and its value (also a ``ValueError``).
    RheobaseSettingsError
        See :func:`check_rheobase_settings`.
    """
    value = threshold_nvalue_save
    if not _is_real(value) or int(value) != value or value < 1:
        raise SettingsError(
            f"threshold_nvalue_save={value!r}: it must be a whole number >= 1 "
            "(a feature is kept when at least that many sweeps gave a value; 0 would "
            "keep features that no sweep matched)."
        )
    if not _is_real(default_std_value) or default_std_value < 0:
        raise SettingsError(
            f"default_std_value={default_std_value!r}: it must be a finite number "
            ">= 0 (the std used when a feature has a single value)."
        )
    if efel_settings is not None and not isinstance(efel_settings, Mapping):
        raise SettingsError(f"efel_settings must be a dict, got {efel_settings!r}.")
    if rheobase_strategy is not None:
        check_rheobase_settings(rheobase_strategy, rheobase_settings)
