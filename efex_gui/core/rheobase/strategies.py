"""Rheobase strategies (spec §4) and ``compute_rheobase``.

Every strategy sees the ``(amp, spikecount)`` pairs of the cell's recordings whose
protocol name is *exactly* in ``protocols_rheobase`` and whose spike count is not
None (with efel 5 a spike-less sweep has ``spikecount`` None, so zero-spike sweeps
are invisible), sorted by amplitude. A strategy sets ``cell.rheobase`` only when it
finds one.

Compatibility (docs/compatibility-core.md): ``majority`` keeps BluePyEfe's off-by-one
bin by default (``binning="fixed"`` corrects it) and returns no rheobase with a
warning, instead of crashing, when no sweep is eligible.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from efex_gui.core.errors import RheobaseSettingsError, SettingsError

logger = logging.getLogger(__name__)

#: BluePyEfe's names of the step protocols that give a rheobase, besides ``IV``
#: (its preset puts ``IV`` first, its automatic targets last: the order is kept).
STEP_PROTOCOL_NAMES: tuple[str, ...] = (
    "Step",
    "FirePattern",
    "IDrest",
    "IDRest",
    "IDthresh",
    "IDThresh",
    "IDThres",
    "IDthres",
)

#: BluePyEfe's default ``protocols_rheobase`` (when ``protocols_rheobase=None``).
PRESET_PROTOCOLS_RHEOBASE: list[str] = ["IV", *STEP_PROTOCOL_NAMES]

#: A spiking sweep below this amplitude (nA) is suspicious.
LOW_AMPLITUDE_NA = 0.01


def _warn(cell: Any, message: str) -> None:
    if hasattr(cell, "warn"):
        cell.warn(message)
    else:
        logger.warning("Cell %s: %s", getattr(cell, "name", "?"), message)


def get_list_spiking_amplitude(
    cell: Any, protocols_rheobase: Sequence[str]
) -> tuple[list[Any], list[int]]:
    """Amplitudes (nA) and spike counts of the eligible sweeps, sorted by amplitude.

    Parameters
    ----------
    cell : Cell
        The cell.
    protocols_rheobase : sequence of str
        Protocol names used for the rheobase (exact, case-sensitive).

    Returns
    -------
    tuple of list
        ``(amps, spike_counts)``.
    """
    pairs = []
    for recording in cell.recordings:
        if recording.protocol_name in protocols_rheobase:
            spikecount = recording.spikecount
            if spikecount is None:
                continue
            if recording.amp < LOW_AMPLITUDE_NA and spikecount >= 1:
                logger.warning(
                    "A recording of cell %s, protocol %s spikes at a suspiciously "
                    "low current amplitude (%s nA).",
                    cell.name,
                    recording.protocol_name,
                    recording.amp,
                )
            pairs.append((recording.amp, spikecount))
    if not pairs:
        return [], []
    amps, spike_counts = zip(*sorted(pairs), strict=True)
    return list(amps), list(spike_counts)


def compute_rheobase_absolute(
    cell: Any, protocols_rheobase: Sequence[str], spike_threshold: int = 1
) -> None:
    """Rheobase = the smallest amplitude with at least ``spike_threshold`` spikes."""
    amps, spike_counts = get_list_spiking_amplitude(cell, protocols_rheobase)
    for amp, spike_count in zip(amps, spike_counts, strict=True):
        if spike_count >= spike_threshold:
            cell.rheobase = amp
            break


def compute_rheobase_flush(
    cell: Any,
    protocols_rheobase: Sequence[str],
    flush_length: int = 1,
    upper_bound_spikecount: int | None = None,
) -> None:
    """Rheobase = the first spiking amplitude followed by ``flush_length`` spiking ones.

    Walking up the amplitudes, a sweep with more than ``upper_bound_spikecount``
    spikes stops the search (no rheobase).
    """
    amps, spike_counts = get_list_spiking_amplitude(cell, protocols_rheobase)
    for i, amp in enumerate(amps):
        if (
            upper_bound_spikecount is not None
            and spike_counts[i] > upper_bound_spikecount
        ):
            break
        if spike_counts[i] != 0:
            following = spike_counts[i + 1 : i + 1 + flush_length]
            if len(following) == flush_length and all(c != 0 for c in following):
                cell.rheobase = amp
                break


def compute_rheobase_majority_bin(
    cell: Any,
    protocols_rheobase: Sequence[str],
    min_step: float = 0.01,
    majority: float = 0.5,
    binning: str = "compat",
) -> None:
    """Rheobase = the centre of the first amplitude bin where most sweeps spike.

    Parameters
    ----------
    cell : Cell
        The cell.
    protocols_rheobase : sequence of str
        Protocol names used for the rheobase.
    min_step : float
        Bin width (nA).
    majority : float
        Fraction of spiking sweeps a bin needs.
    binning : {"compat", "fixed"}
        ``"compat"`` (default) reproduces BluePyEfe: bin index ``i`` collects
        ``[bins[i-1], bins[i])`` but the reported value is ``bins[i] + min_step/2``
        (one bin too high) and the largest amplitude is never looked at.
        ``"fixed"`` reports the centre of the bin that holds the sweeps, largest
        amplitude included.
    """
    if binning not in ("compat", "fixed"):
        raise SettingsError(f"binning must be 'compat' or 'fixed', not {binning!r}.")
    amps, spike_counts = get_list_spiking_amplitude(cell, protocols_rheobase)
    if not amps:
        _warn(
            cell,
            "majority rheobase: no sweep of the rheobase protocols has a "
            "spike count; no rheobase.",
        )
        return
    bins = np.arange(min(amps), max(amps), min_step)
    if binning == "fixed" and len(bins) == 0:
        bins = np.asarray([min(amps)])
    indices = np.digitize(amps, bins)
    spiking = np.asarray(spike_counts) > 0
    candidates = range(len(bins)) if binning == "compat" else range(1, len(bins) + 1)
    for i in candidates:
        selected = spiking[indices == i]
        if not len(selected) or np.mean(selected) < majority:
            continue
        lower = bins[i] if binning == "compat" else bins[i - 1]
        cell.rheobase = lower + min_step / 2.0
        break


def compute_rheobase_interpolation(
    cell: Any, protocols_rheobase: Sequence[str]
) -> None:
    """Rheobase = amplitude at 1 spike on a linear fit from the first 0 → spiking step.

    With efel 5, zero-spike sweeps are not eligible, so this finds no rheobase in
    practice (as in BluePyEfe).
    """
    amps, spike_counts = get_list_spiking_amplitude(cell, protocols_rheobase)
    start = None
    for i in range(len(spike_counts) - 1):
        if spike_counts[i] == 0 and spike_counts[i + 1] > 0:
            start = i
            break
    if start is None:
        return
    try:
        fit = np.poly1d(np.polyfit(spike_counts[start:], amps[start:], deg=1))
    except Exception as exc:  # numpy raises LinAlgError, TypeError, ... on bad fits
        logger.error("Cell %s: the rheobase interpolation failed: %s", cell.name, exc)
        return
    cell.rheobase = fit(1)


STRATEGIES: dict[str, Callable[..., None]] = {
    "absolute": compute_rheobase_absolute,
    "flush": compute_rheobase_flush,
    "majority": compute_rheobase_majority_bin,
    "interpolation": compute_rheobase_interpolation,
}


def run_rheobase_settings(
    rheobase_strategy: str, rheobase_settings: Mapping[str, Any] | None, auto: bool
) -> Mapping[str, Any] | None:
    """Return the strategy settings a run uses (BluePyEfe's default in auto branch).

    BluePyEfe's automatic-targets branch (spec §2.12) runs ``flush`` with
    ``{"upper_bound_spikecount": 4}`` when no settings are given; everything else
    runs with ``rheobase_settings`` as given.

    Parameters
    ----------
    rheobase_strategy : str
        The strategy's name.
    rheobase_settings : mapping, optional
        The settings given.
    auto : bool
        Whether the run chooses its targets from the recordings.

    Returns
    -------
    mapping or None
        The settings to pass to the strategy.
    """
    if auto and rheobase_settings is None and rheobase_strategy == "flush":
        return {"upper_bound_spikecount": 4}
    return rheobase_settings


def compute_rheobase(
    cells: Iterable[Any],
    protocols_rheobase: Sequence[str],
    rheobase_strategy: str = "absolute",
    rheobase_settings: Mapping[str, Any] | None = None,
    *,
    reset: bool = False,
    rheobase_overrides: Mapping[str, float] | None = None,
) -> None:
    """Compute each cell's rheobase, then its recordings' relative amplitudes.

    Parameters
    ----------
    cells : iterable of Cell
        The cells (mutated).
    protocols_rheobase : sequence of str
        Protocol names whose sweeps are used (exact, case-sensitive).
    rheobase_strategy : {"absolute", "flush", "majority", "interpolation"}
        The strategy.
    rheobase_settings : dict, optional
        Keyword arguments of the strategy (e.g. ``{"spike_threshold": 1}``).
    reset : bool
        Clear each cell's rheobase first. False (BluePyEfe) keeps an earlier rheobase
        when the strategy finds none.
    rheobase_overrides : mapping, optional
        ``{cell name: rheobase in nA}`` (new in efex_gui): these cells get the given
        value instead of the strategy's, whatever the strategy finds.

    Raises
    ------
    SettingsError
        Unknown strategy.
    RheobaseSettingsError
        A setting the strategy does not take (a ``SettingsError`` and, as in
        BluePyEfe, a ``TypeError``).
    """
    check_rheobase_settings(rheobase_strategy, rheobase_settings)
    overrides = rheobase_overrides or {}
    for cell in cells:
        cell_rheobase(
            cell,
            protocols_rheobase,
            rheobase_strategy,
            rheobase_settings,
            reset=reset,
            override=overrides.get(cell.name),
        )


def cell_rheobase(
    cell: Any,
    protocols_rheobase: Sequence[str],
    rheobase_strategy: str = "absolute",
    rheobase_settings: Mapping[str, Any] | None = None,
    *,
    reset: bool = False,
    override: float | None = None,
) -> Any:
    """Compute one cell's rheobase, then its recordings' relative amplitudes.

    The per-cell step of :func:`compute_rheobase` (which checks the settings once
    for all its cells) and of every extraction's per-cell task.

    Parameters
    ----------
    cell : Cell
        The cell (mutated).
    protocols_rheobase, rheobase_strategy, rheobase_settings, reset
        As :func:`compute_rheobase`; the settings must have passed
        :func:`check_rheobase_settings`.
    override : float, optional
        The user's rheobase for this cell (nA), replacing the strategy's.

    Returns
    -------
    float or None
        What the strategy found, before ``override`` (the GUI shows both).
    """
    if reset:
        cell.rheobase = None
    STRATEGIES[rheobase_strategy](
        cell, protocols_rheobase, **dict(rheobase_settings or {})
    )
    computed = cell.rheobase
    if override is not None:
        cell.rheobase = float(override)
    cell.compute_relative_amp()
    return computed


def check_rheobase_settings(
    strategy: Any, rheobase_settings: Mapping[str, Any] | None
) -> None:
    """Refuse an unknown strategy, or a setting the strategy does not take.

    Raises
    ------
    SettingsError
        Unknown strategy (also a ``ValueError``).
    RheobaseSettingsError
        A setting the strategy does not take (also a ``TypeError``, as BluePyEfe).
    """
    if strategy not in STRATEGIES:
        raise SettingsError(
            f"Rheobase strategy {strategy} unknown: use one of {', '.join(STRATEGIES)}."
        )
    if rheobase_settings is None:
        return
    if not isinstance(rheobase_settings, Mapping):
        raise RheobaseSettingsError(
            f"rheobase_settings must be a dict, got {rheobase_settings!r}."
        )
    parameters = inspect.signature(STRATEGIES[strategy]).parameters
    accepted = [n for n in parameters if n not in ("cell", "protocols_rheobase")]
    for key in rheobase_settings:
        if key not in accepted:
            raise RheobaseSettingsError(
                f"rheobase_settings {key!r} is not a setting of the {strategy!r} "
                f"strategy (it takes {', '.join(accepted) or 'none'})."
            )
