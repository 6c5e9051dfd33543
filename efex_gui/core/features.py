"""The one door to efel (spec §3.2.6).

efel keeps its settings in module-global state, so every call here starts with
``efel.reset()``, sets every setting it needs, computes all the requested features of
one trace in a single ``get_feature_values`` call, and does all of that under one
module-level lock: two threads can never mix their settings. No other module of
efex_gui imports efel.
"""

from __future__ import annotations

import logging
import threading
import warnings
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import efel
import numpy as np

from efex_gui.core.errors import TargetError

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

logger = logging.getLogger(__name__)

#: Serialises every use of efel's global settings.
EFEL_LOCK = threading.RLock()


class UnknownFeatureError(TargetError, RuntimeError):
    """efel does not know a feature name.

    Also a ``RuntimeError``, what efel 5 itself raises for an unknown name.
    """


#: Reset efel by replacing its settings object rather than re-initialising it.
FAST_RESET = True

#: The feature that needs the list-valued ``multi_stim_start`` / ``multi_stim_end``.
MULTI_STIM_FEATURE = "multiple_decay_time_constant_after_stim"


def build_efel_settings(
    efel_settings: Mapping[str, Any] | None,
    stimulus_current: Any,
    auto_threshold: Any = None,
) -> dict[str, Any]:
    """Merge the settings efel receives, in BluePyEfe's order.

    Parameters
    ----------
    efel_settings : mapping or None
        The caller's settings; ``stim_start`` / ``stim_end`` are left out (they
        become trace fields).
    stimulus_current : float or None
        The eCode's primary amplitude (nA), passed as efel's ``stimulus_current``.
    auto_threshold : float or None
        Used as ``Threshold`` when the caller's settings have no ``Threshold`` key.

    Returns
    -------
    dict
        The settings to hand to efel, in insertion order.
    """
    given = dict(efel_settings or {})
    settings: dict[str, Any] = {"stimulus_current": stimulus_current}
    if "Threshold" not in given and auto_threshold is not None:
        logger.debug(
            "Threshold not in the efel settings: the automatic threshold "
            "%s mV is used.",
            auto_threshold,
        )
        settings["Threshold"] = auto_threshold
    for key, value in given.items():
        if key not in ("stim_start", "stim_end"):
            settings[key] = value
    return settings


def efel_version() -> str:
    """Return the installed efel's version (part of the persistent cache keys)."""
    return str(getattr(efel, "__version__", "unknown"))


def reset_efel() -> None:
    """Put efel's settings back to their defaults before a call.

    ``efel.reset()`` also re-reads efel's dependency file (about 6 ms, as long as a
    whole feature computation on a short sweep). Every ``get_feature_values`` call
    clears efel's C++ state and pushes the Python settings object again, so a fresh
    ``Settings`` object gives efel exactly the state ``efel.reset()`` gives; the full
    reset is kept as the fallback if efel's internals ever change.
    """
    api = getattr(efel, "api", None)
    if FAST_RESET and api is not None and hasattr(api, "_settings"):
        api._settings = efel.Settings()
    else:
        efel.reset()


def call_efel(
    t: Any,
    voltage: Any,
    current: Any,
    features: Sequence[str],
    settings: Mapping[str, Any] | None = None,
    *,
    stim_start: float,
    stim_end: float,
    stimulus_current: Any = None,
    auto_threshold: Any = None,
    multi_stim_start: Sequence[float] | None = None,
    multi_stim_end: Sequence[float] | None = None,
) -> dict[str, Any]:
    """Compute efel features on one trace, exactly as BluePyEfe drives efel.

    Parameters
    ----------
    t, voltage : array_like
        Time (ms) and voltage (mV).
    current : array_like or None
        Current (nA), passed to efel as ``I`` when not None.
    features : sequence of str
        efel feature names; all are computed in one efel call.
    settings : mapping, optional
        efel settings. ``stim_start`` / ``stim_end`` in it override the eCode's
        window (given as ``stim_start`` / ``stim_end``, in ms).
    stim_start, stim_end : float
        The eCode's stimulus window (ms).
    stimulus_current : float, optional
        The eCode's primary amplitude (nA).
    auto_threshold : float, optional
        Spike threshold used when ``settings`` has no ``Threshold``.
    multi_stim_start, multi_stim_end : sequence of float, optional
        Pulse windows (SpikeRec) for ``multiple_decay_time_constant_after_stim``.

    Returns
    -------
    dict
        ``{feature: numpy array or None}`` as efel returns it.

    Raises
    ------
    ValueError
        An efel setting has a value of the wrong type (e.g. ``Threshold: ["40."]``).
    RuntimeError
        efel does not know a feature name.
    """
    given = dict(settings or {})
    efel_settings = build_efel_settings(given, stimulus_current, auto_threshold)
    start = given.get("stim_start", stim_start)
    end = given.get("stim_end", stim_end)
    if MULTI_STIM_FEATURE in features:
        if multi_stim_start is not None and multi_stim_end is not None:
            efel_settings["multi_stim_start"] = list(multi_stim_start)
            efel_settings["multi_stim_end"] = list(multi_stim_end)
        elif "stim_start" in given and "stim_end" in given:
            efel_settings["multi_stim_start"] = [given["stim_start"]]
            efel_settings["multi_stim_end"] = [given["stim_end"]]
    # efel copies every sample into a list; from a list of floats that copy is
    # several times faster than from a NumPy array (same doubles reach efel)
    trace = {
        "T": _as_list(t),
        "V": _as_list(voltage),
        "stim_start": [start],
        "stim_end": [end],
    }
    if current is not None and _needs_current(features, efel_settings):
        trace["I"] = _as_list(current)
    with EFEL_LOCK:
        reset_efel()
        for name, value in efel_settings.items():
            if name in ("stim_start", "stim_end"):
                value = float(value)
            efel.set_setting(name, value)
        values: dict[str, Any] = efel.get_feature_values(
            [trace], list(features), raise_warnings=False
        )[0]
        return values


#: Leave the current trace out of efel calls whose features never read it.
OMIT_UNUSED_CURRENT = True

#: efel's C++ features that read the current trace ``I``.
_CURRENT_ROOTS = ("current", "current_base", "steady_state_current_stimend")


def _needs_current(features: Sequence[str], settings: Mapping[str, Any]) -> bool:
    """Whether the efel call must receive the current trace.

    efel interpolates every trace it is given on every feature (the current doubles
    the cost of a call) but only the features in :func:`current_features` read it, so
    without them the results are the same arrays (checked on every efel feature over
    the shared datasets). A custom ``dependencyfile_path`` keeps the current.
    """
    if not OMIT_UNUSED_CURRENT or "dependencyfile_path" in settings:
        return True
    readers = current_features()
    return readers is None or any(f in readers for f in features)


@lru_cache(maxsize=1)
def current_features() -> frozenset[str] | None:
    """Return the efel features that read the current trace (None: unknown).

    C++ features: the dependents of ``current``, ``current_base`` and
    ``steady_state_current_stimend`` in efel's dependency file. Python features: those
    whose source (or the source of a helper they call) names one of them.
    """
    try:
        needs = set(_CURRENT_ROOTS)
        _close_over(needs, _cpp_dependencies())
        _close_over(needs, _python_sources())
    except Exception:  # efel changed its layout: always pass the current
        logger.debug("efel's dependencies are unreadable; the current is always sent")
        return None
    return frozenset(needs)


def _cpp_dependencies() -> dict[str, str]:
    path = efel.Settings().dependencyfile_path
    table = {}
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            parts = line.split()
            if parts:
                table[parts[0].split(":")[-1]] = " ".join(parts[1:])
    return table


def _python_sources() -> dict[str, str]:
    import inspect

    from efel import pyfeatures

    sources = {}
    for module in vars(pyfeatures).values():
        if inspect.ismodule(module) and module.__name__.startswith(pyfeatures.__name__):
            for name, func in inspect.getmembers(module, inspect.isfunction):
                try:
                    sources[name] = inspect.getsource(func)
                except (OSError, TypeError):  # no source (frozen app): assume it does
                    sources[name] = _CURRENT_ROOTS[0]
    return sources


def _close_over(needs: set[str], texts: Mapping[str, str]) -> None:
    """Add every name whose text mentions a name of ``needs``, to a fixed point."""
    import re

    changed = True
    while changed:
        pattern = re.compile(r"\b(" + "|".join(map(re.escape, needs)) + r")\b")
        changed = False
        for name, text in texts.items():
            if name not in needs and pattern.search(text):
                needs.add(name)
                changed = True


def _as_list(values: Any) -> Any:
    """Convert a 1-D NumPy array to a list of Python numbers (same values)."""
    if isinstance(values, np.ndarray) and values.ndim == 1:
        return values.tolist()
    return values


def mean_feature_value(values: Any) -> float:
    """Reduce one efel output array to BluePyEfe's per-recording value.

    None entries are dropped; an empty result or an infinite mean gives NaN;
    otherwise the NaN-ignoring mean.

    Parameters
    ----------
    values : array_like or None
        What efel returned for one feature.

    Returns
    -------
    float
        The per-recording value (NaN when there is none).
    """
    if values is None:
        return np.nan
    numeric = isinstance(values, np.ndarray) and values.dtype.kind in "fiu"
    if numeric and values.ndim == 1:
        return _mean_of_numbers(values)
    kept = [v for v in np.atleast_1d(np.asarray(values, dtype=object)) if v is not None]
    if not kept:
        return np.nan
    with warnings.catch_warnings():
        # an all-NaN input warns "Mean of empty slice"; NaN is the right answer
        warnings.simplefilter("ignore", RuntimeWarning)
        mean: float = np.nanmean(np.asarray(kept, dtype=float))
    if np.isinf(mean):
        return np.nan
    return mean


def _mean_of_numbers(values: np.ndarray) -> float:
    """:func:`mean_feature_value` of a numeric array (what efel returns), fast.

    Same numbers as the general path (which goes through an object array and back to
    float64), without the conversions and the warnings context.
    """
    numbers = values.astype(np.float64, copy=False)
    if not numbers.size or np.isnan(numbers).all():
        return np.nan
    mean = np.float64(np.nanmean(numbers))
    if np.isinf(mean):
        return np.nan
    return mean


@lru_cache(maxsize=1)
def _feature_names() -> tuple[str, ...]:
    return tuple(efel.get_feature_names())


def efel_feature_names() -> list[str]:
    """Return efel's catalogue of feature names (sorted), e.g. for completion."""
    return sorted(_feature_names())


def is_efel_feature(name: str) -> bool:
    """Whether efel knows the feature ``name``."""
    return name in _feature_names()


def feature_unit(name: str) -> str:
    """Return the unit efel gives for a feature (``"mV"``, ``"Hz"``, ...).

    Returns ``""`` for a unitless feature (efel's ``"constant"``), an unknown name, or a
    feature efel has no unit for (e.g. ``Spikecount``).
    """
    from efel.units import get_unit

    try:
        unit = str(get_unit(name))
    except Exception:  # efel raises a bare KeyError/ValueError for unknown units
        return ""
    return "" if unit in ("constant", "") else unit


def describe_feature(name: str) -> str:
    """Return a one-paragraph description of an efel feature, with its unit.

    Python-implemented features carry a docstring in efel; C++ ones only a unit.

    Parameters
    ----------
    name : str
        efel feature name.

    Returns
    -------
    str
        A short description ("" for an unknown name).
    """
    if not is_efel_feature(name):
        return ""
    from efel import pyfeatures
    from efel.units import get_unit

    doc = ""
    func = getattr(pyfeatures, name, None)
    if callable(func) and func.__doc__:
        doc = " ".join(func.__doc__.strip().split("\n\n")[0].split())
    try:
        unit = get_unit(name)
    except Exception:  # efel raises a bare KeyError/ValueError for unknown units
        unit = ""
    parts = [p for p in (doc, f"Unit: {unit}." if unit else "") if p]
    return " ".join(parts) if parts else name


def efel_settings_names() -> list[str]:
    """Return the names of efel's settings (for validation and completion)."""
    return list(efel.Settings.__dataclass_fields__)


def check_features(features: Iterable[str]) -> list[str]:
    """Return the names among ``features`` that efel does not know."""
    return [f for f in features if not is_efel_feature(f)]
