"""Stage 3 of the pipeline: targets → Protocols → the three output dicts.

* :func:`group_by_target` (:class:`GroupingSettings`) builds one
:class:`~efex_gui.core.extraction.protocol.Protocol` per
  (protocol name, amplitude) of the targets and attaches every recording whose amplitude
  is strictly within the tolerance (spec §2.5);
* :func:`build_outputs` turns them into the ``features``, ``protocols`` and
  ``currents`` dicts (:class:`OutputSettings`) and optionally writes them (spec §2.6).

Both follow BluePyEfe; the deliberate differences (``threshold_nvalue_save=0`` no
longer crashes on an empty protocol, ``strict_targets`` turns the silent tolerance and
name conflicts into errors) are listed in ``docs/compatibility.md``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from efex_gui.core.errors import SettingsError, TargetError
from efex_gui.core.export.outputs import build_current_dict, save_outputs
from efex_gui.core.extraction.protocol import Protocol
from efex_gui.core.recordings.cell import Cell
from efex_gui.core.targets.target import EFeatureTarget

if TYPE_CHECKING:
    from pathlib import Path

logger = logging.getLogger(__name__)

__all__ = [
    "GroupingSettings",
    "OutputSettings",
    "build_outputs",
    "build_protocols",
    "cell_matches",
    "global_rheobase",
    "group_by_target",
    "output_folder",
    "protocol_outputs",
    "recorded_protocols",
    "validate_targets",
    "warn_unrecorded_protocols",
]

_REQUIRED_TARGET_KEYS = ("efeature", "protocol", "amplitude", "tolerance")


def validate_targets(targets: Iterable[Mapping[str, Any]]) -> None:
    """Check that every target dict has the keys grouping needs.

    Raises
    ------
    TargetError
        Naming the target (index, protocol, feature) and the missing key, or a
        negative tolerance.
    """
    for index, target in enumerate(targets):
        if not isinstance(target, Mapping):
            raise TargetError(f"Target #{index} is not a dict: {target!r}.")
        for key in _REQUIRED_TARGET_KEYS:
            if key not in target:
                raise TargetError(
                    f"Target #{index} ({target.get('protocol')!r}, "
                    f"{target.get('efeature')!r}) lacks the key {key!r}."
                )
        tolerance = target["tolerance"]
        if isinstance(tolerance, int | float) and tolerance < 0:
            raise TargetError(
                f"Target #{index} ({target['protocol']!r}, {target['efeature']!r}) has "
                f"a negative tolerance {tolerance}."
            )


def global_rheobase(cells: Iterable[Any]) -> float:
    """Mean rheobase of the cells that have one (NaN when none has)."""
    values = [cell.rheobase for cell in cells if cell.rheobase is not None]
    return np.nanmean(values) if values else np.nan


def build_protocols(
    targets: Iterable[Mapping[str, Any]],
    rheobase: float | None,
    protocol_mode: str,
    efel_settings: Mapping[str, Any],
    strict_targets: bool,
) -> list[Protocol]:
    """One Protocol per (protocol, amplitude) of the targets, holding their targets."""
    protocols: list[Protocol] = []
    for target in targets:
        efel_target = EFeatureTarget(
            efeature_name=target.get("efeature_name", target["efeature"]),
            efel_feature_name=target["efeature"],
            protocol_name=target["protocol"],
            amplitude=target["amplitude"],
            tolerance=target["tolerance"],
            efel_settings={**efel_settings, **target.get("efel_settings", {})},
        )
        for protocol in protocols:
            if protocol.name == target["protocol"] and (
                protocol.amplitude == target["amplitude"]
            ):
                _check_tolerance(protocol, target, strict_targets)
                protocol.feature_targets.append(efel_target)
                break
        else:
            protocols.append(
                Protocol(
                    name=target["protocol"],
                    amplitude=target["amplitude"],
                    tolerance=target["tolerance"],
                    feature_targets=[efel_target],
                    global_rheobase=rheobase,
                    mode=protocol_mode,
                )
            )
    return protocols


def _check_tolerance(
    protocol: Protocol, target: Mapping[str, Any], strict_targets: bool
) -> None:
    """§9.1-9: a protocol keeps the tolerance of its first target."""
    if target["tolerance"] == protocol.tolerance:
        return
    message = (
        f"Target {target['efeature']!r} of {protocol.stimulus_name} has tolerance "
        f"{target['tolerance']} but the protocol uses the first target's tolerance "
        f"{protocol.tolerance} for every feature."
    )
    if strict_targets:
        raise TargetError(message)
    logger.warning(message)


@dataclass(frozen=True)
class GroupingSettings:
    """How the recordings' values are grouped by target (spec §2.5).

    Attributes
    ----------
    absolute_amplitude : bool
        Match on absolute amplitudes (nA) instead of % of rheobase.
    use_global_rheobase : bool
        Rescale averaged step amplitudes with the cells' mean rheobase.
    protocol_mode : str
        ``"mean"``, ``"median"``, ``"min"`` or ``"max"`` (stimulus reduction).
    efel_settings : dict, optional
        Global efel settings, merged under each target's own settings.
    strict_targets : bool
        Raise :class:`TargetError` when two targets of one protocol and amplitude
        have different tolerances (BluePyEfe silently keeps the first).
    """

    absolute_amplitude: bool = False
    use_global_rheobase: bool = True
    protocol_mode: str = "mean"
    efel_settings: Mapping[str, Any] | None = None
    strict_targets: bool = False


def group_by_target(
    cells: list[Any],
    targets: Sequence[Mapping[str, Any]],
    settings: GroupingSettings = GroupingSettings(),
) -> list[Protocol]:
    """Group the recordings' feature values by target (spec §2.5).

    BluePyEfe's ``group_efeatures`` (the façade :func:`efex_gui.extract.group_efeatures`
    keeps its signature).

    Parameters
    ----------
    cells : list of Cell
        Cells with features extracted (and rheobase computed unless absolute).
    targets : list of dict
        Target dicts (``efeature``, ``protocol``, ``amplitude``, ``tolerance``,
        optional ``efel_settings`` and ``efeature_name``).
    settings : GroupingSettings
        How recordings match the targets and their stimuli are reduced.

    Returns
    -------
    list of Protocol
        One per (protocol, amplitude), in order of first appearance.
    """
    absolute = settings.absolute_amplitude
    rheobase = None
    if settings.use_global_rheobase and not absolute:
        rheobase = global_rheobase(cells)
    protocols = build_protocols(
        targets,
        rheobase,
        settings.protocol_mode,
        {} if settings.efel_settings is None else settings.efel_settings,
        settings.strict_targets,
    )
    matches = [
        cell_matches(cell, protocols, absolute)
        for cell in cells
        if cell.rheobase is not None or absolute
    ]
    for index, protocol in enumerate(protocols):
        for matched in matches:
            for recording in matched[index]:
                protocol.append(recording)
    warn_unrecorded_protocols(recorded_protocols(cells), protocols)
    return protocols


def cell_matches(
    cell: Any, protocols: Sequence[Protocol], absolute_amplitude: bool
) -> list[list[Any]]:
    """Per protocol window, the cell's recordings inside it, in the cell's order.

    What :func:`group_by_target` appends to each protocol from this cell (spec §2.5:
    same protocol name, amplitude strictly within the tolerance).
    """
    recordings = _by_protocol(cell)
    return [
        [
            recording
            for recording in recordings(protocol.name)
            if recording.in_target(
                protocol.amplitude, protocol.tolerance, absolute_amplitude
            )
        ]
        for protocol in protocols
    ]


def _by_protocol(cell: Any) -> Callable[[str], list[Any]]:
    """``cell.get_recordings_by_protocol_name``, indexed once.

    44 cells × 100 windows would otherwise scan every recording of a cell per window.
    """
    method = getattr(type(cell), "get_recordings_by_protocol_name", None)
    if method is not Cell.get_recordings_by_protocol_name:
        foreign: Callable[[str], list[Any]] = cell.get_recordings_by_protocol_name
        return foreign  # a foreign cell class
    index: dict[Any, list[Any]] = {}
    for recording in cell.recordings:
        index.setdefault(recording.protocol_name, []).append(recording)
    return lambda name: index.get(name, [])


def recorded_protocols(cells: Iterable[Any]) -> set[str]:
    """Return the protocol names the cells' recordings have."""
    return {rec.protocol_name for cell in cells for rec in cell.recordings}


def warn_unrecorded_protocols(
    recorded: set[str], protocols: Sequence[Protocol]
) -> None:
    """Warn about target protocols no recording has (a name typo, often case)."""
    for name in dict.fromkeys(protocol.name for protocol in protocols):
        if name in recorded:
            continue
        near = sorted(n for n in recorded if str(n).lower() == str(name).lower())
        hint = f" (names are case-sensitive; recorded: {near})" if near else ""
        logger.warning("No recording of protocol %r in any cell%s.", name, hint)


@dataclass(frozen=True)
class OutputSettings:
    """How the grouped values become the three output dicts (spec §2.6).

    Attributes
    ----------
    threshold_nvalue_save : int
        Targets with fewer values are dropped; protocols left empty are dropped.
    save_files_used : bool
        Add the files of each value to the features (BluePyEfe crashes instead).
    default_std_value : float
        Replaces standard deviations of exactly 0.
    nan_as_null : bool
        Write NaN as ``null`` instead of BluePyEfe's bare ``NaN``.
    """

    threshold_nvalue_save: int = 1
    save_files_used: bool = False
    default_std_value: float = 1e-3
    nan_as_null: bool = False


def output_folder(
    output_directory: str | Path | None, write_files: bool
) -> str | Path | None:
    """Return where the outputs go: None when ``write_files`` is False.

    Raises
    ------
    SettingsError
        ``write_files`` without an ``output_directory``.
    """
    if not write_files:
        return None
    if not output_directory:
        raise SettingsError("output_directory cannot be None if write_files is True.")
    return output_directory


def build_outputs(
    cells: list[Any],
    protocols: list[Protocol],
    settings: OutputSettings = OutputSettings(),
    write_to: str | Path | None = None,
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """Build features, protocols and currents; write them to ``write_to`` if given.

    BluePyEfe's ``create_feature_protocol_files`` (spec §2.6); the façade
    :func:`efex_gui.extract.create_feature_protocol_files` keeps its signature.

    Parameters
    ----------
    cells : list of Cell
        All cells (for the holding / threshold currents).
    protocols : list of Protocol
        Output of :func:`group_by_target`.
    settings : OutputSettings
        What is kept and how it is written.
    write_to : str or Path, optional
        The folder of ``features.json``, ``protocols.json`` and
        ``holding_threshold_currents.json`` (see :func:`output_folder`).

    Returns
    -------
    tuple of dict
        ``(features, protocols, currents)``.
    """
    features: dict[str, Any] = {}
    stimuli: dict[str, Any] = {}
    for protocol in protocols:
        outputs = protocol_outputs(
            protocol,
            settings.threshold_nvalue_save,
            settings.save_files_used,
            settings.default_std_value,
        )
        if outputs is not None:
            features[protocol.stimulus_name], stimuli[protocol.stimulus_name] = outputs
    currents = build_current_dict(cells, settings.default_std_value)
    if write_to is not None:
        save_outputs(
            write_to, features, stimuli, currents, nan_as_null=settings.nan_as_null
        )
    return features, stimuli, currents


def protocol_outputs(
    protocol: Protocol,
    threshold_nvalue_save: int = 1,
    save_files_used: bool = False,
    default_std_value: float = 1e-3,
) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """One protocol's ``features.json`` and ``protocols.json`` entries (spec §2.6).

    Returns
    -------
    tuple of dict or None
        ``({"soma": [target entries]}, stimulus)``; None when no target has
        ``threshold_nvalue_save`` values or no recording matched (the protocol is
        left out of the outputs).
    """
    entries = []
    for target in protocol.feature_targets:
        if target.sample_size < threshold_nvalue_save:
            logger.warning(
                "Number of values < threshold_nvalue_save for efeature %s "
                "stimulus %s. The efeature will be ignored.",
                target.efeature_name,
                protocol.stimulus_name,
            )
            continue
        entries.append(target.as_dict(save_files_used, default_std_value))
    if not entries or not protocol.recordings:
        logger.warning(
            "No efeatures for stimulus %s. The protocol will not be created.",
            protocol.stimulus_name,
        )
        return None
    return {"soma": entries}, protocol.as_dict()
