"""A protocol at one target amplitude: its matched recordings and averaged stimulus.

:class:`Protocol` is BluePyEfe's ``bluepyefe.protocol.Protocol`` (spec §5.5). It holds
the :class:`~efex_gui.core.targets.target.EFeatureTarget` objects of one (protocol name,
amplitude) pair, receives every recording that falls in the amplitude window and
rebuilds an "average" stimulus for ``protocols.json``: each stimulus parameter is
reduced over the matched recordings with the mode's operator, and the step amplitudes
are rescaled by the global rheobase so higher percentages always give higher currents.

``mode="lnmc"`` is named in BluePyEfe's docstrings but was never implemented; here it
raises a :class:`~efex_gui.core.errors.SettingsError` saying so (§9.1-10).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from efex_gui.core.errors import SettingsError
from efex_gui.core.targets.target import GatheredValues

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from efex_gui.core.targets.target import EFeatureTarget

logger = logging.getLogger(__name__)

__all__ = [
    "PROTOCOL_MODES",
    "GatheredRecordings",
    "Protocol",
    "ProtocolPart",
    "check_protocol_mode",
]

#: mode name -> NaN-ignoring reduction applied to the matched recordings' stimuli
PROTOCOL_MODES: dict[str, Callable[..., Any]] = {
    "mean": np.nanmean,
    "median": np.nanmedian,
    "min": np.nanmin,
    "max": np.nanmax,
}


def check_protocol_mode(mode: str) -> Callable[..., Any]:
    """Return the reduction of a protocol mode, or raise a clear error.

    Parameters
    ----------
    mode : str
        One of ``"mean"``, ``"median"``, ``"min"``, ``"max"``.

    Returns
    -------
    callable
        The NumPy NaN-ignoring reduction.

    Raises
    ------
    SettingsError
        For ``"lnmc"`` (documented by BluePyEfe, never implemented) or any other
        name. It is also a ``ValueError``, the type BluePyEfe raises.
    """
    if mode in PROTOCOL_MODES:
        return PROTOCOL_MODES[mode]
    if mode == "lnmc":
        raise SettingsError(
            "protocol_mode 'lnmc' is not available: BluePyEfe documents it but never "
            "implemented it. Use 'mean', 'median', 'min' or 'max'."
        )
    raise SettingsError(
        f"protocol_mode {mode!r} is unknown: use 'mean', 'median', 'min' or 'max'."
    )


class GatheredRecordings(NamedTuple):
    """The recordings a protocol received and its targets' values (``gathered``).

    Flat: every target's values one after the other in one tuple, with the number
    of each target's values, and each target's files and thresholds tuples (shared
    where equal). The grouping cache extends a rebuilt window with one for each
    cell not in it last time (the others give their ``Protocol.part``).
    """

    recordings: tuple[Any, ...]
    values: tuple[float, ...]
    counts: tuple[int, ...]
    files: tuple[Sequence[str], ...]
    auto_thresholds: tuple[Sequence[float], ...]

    @property
    def feature_targets(self) -> tuple[GatheredValues, ...]:
        """Each target's values, files and thresholds, in the targets' order."""
        targets: list[GatheredValues] = []
        start = 0
        for count, files, thresholds in zip(
            self.counts, self.files, self.auto_thresholds, strict=True
        ):
            targets.append(
                GatheredValues(self.values[start : start + count], files, thresholds)
            )
            start += count
        return tuple(targets)


class ProtocolPart(NamedTuple):
    """Some of a protocol's recordings and what they gave its targets (``part``)."""

    recordings: Sequence[Any]
    feature_targets: tuple[GatheredValues, ...]


class Protocol:
    """The recordings and targets of one protocol at one amplitude.

    Parameters
    ----------
    name : str
        Protocol name (matched exactly against ``recording.protocol_name``).
    amplitude : float
        Target amplitude (% of rheobase, or nA in absolute mode).
    tolerance : float
        Half-width of the amplitude window (the first target's, spec §2.5).
    feature_targets : list of EFeatureTarget, optional
        The targets of this protocol and amplitude.
    global_rheobase : float, optional
        Mean rheobase of the cells, used to rescale the averaged step amplitudes.
    mode : str
        ``"mean"``, ``"median"``, ``"min"`` or ``"max"``: how the stimuli of the
        matched recordings are reduced.
    """

    def __init__(
        self,
        name: str,
        amplitude: float,
        tolerance: float,
        feature_targets: list[EFeatureTarget] | None = None,
        global_rheobase: float | None = None,
        mode: str = "mean",
    ) -> None:
        self.name = name
        self.amplitude = amplitude
        self.tolerance = tolerance
        self.feature_targets = [] if feature_targets is None else feature_targets
        self.global_rheobase = global_rheobase
        self.mode = mode
        self.recordings: list[Any] = []

    @property
    def stimulus_name(self) -> str:
        """``f"{name}_{amplitude}"``, the key in the output files."""
        return f"{self.name}_{self.amplitude}"

    @property
    def n_match(self) -> int:
        """Sum of the targets' sample sizes (not a number of recordings)."""
        return sum(target.sample_size for target in self.feature_targets)

    def append(self, recording: Any) -> None:
        """Attach a recording: give each target its value and auto threshold.

        Parameters
        ----------
        recording : Recording
            A recording of this protocol within the amplitude window.
        """
        files = tuple(recording.files)  # one tuple for every target (see ``files``)
        for target in self.feature_targets:
            name = target.efeature_name
            if name in recording.efeatures:
                target.append(recording.efeatures[name], files)
            if (
                recording.auto_threshold is not None
                and "Threshold" not in target.efel_settings
            ):
                target.append_auto_threshold(recording.auto_threshold)
        self.recordings.append(recording)

    def gathered(self) -> GatheredRecordings:
        """Return the recordings received and the targets' values (not copied).

        A compact record of what was appended, for :meth:`extend` later: without
        the targets' names and settings, which a copy of a template repeats. The
        targets' files and thresholds tuples are shared where they hold the same
        objects (most features of a sweep come from the same files).
        """
        shared: dict[tuple[int, ...], tuple[Any, ...]] = {}
        targets = [t.gathered(shared) for t in self.feature_targets]
        return GatheredRecordings(
            tuple(self.recordings),
            tuple(value for target in targets for value in target.values),
            tuple(len(target.values) for target in targets),
            tuple(target.files for target in targets),
            tuple(target.auto_thresholds for target in targets),
        )

    def sizes(self) -> tuple[int, ...]:
        """How much the protocol holds: its recordings, then each target's sizes.

        Flat: the number of recordings, then each target's
        :meth:`~efex_gui.core.targets.target.EFeatureTarget.sizes`. Two sizes
        delimit what an :meth:`extend` or appends added (:meth:`part`).
        """
        return (
            len(self.recordings),
            *(size for target in self.feature_targets for size in target.sizes()),
        )

    def part(self, start: Sequence[int], end: Sequence[int]) -> ProtocolPart:
        """Return what was added between two :meth:`sizes`, as :meth:`extend` takes.

        A protocol with the same targets extended with it holds what it would hold
        after appending those recordings (the same values, in order).
        """
        targets = zip(range(1, len(start), 3), self.feature_targets, strict=True)
        return ProtocolPart(
            self.recordings[start[0] : end[0]],
            tuple(
                target.part(start[at : at + 3], end[at : at + 3])
                for at, target in targets
            ),
        )

    def extend(self, other: Protocol | GatheredRecordings | ProtocolPart) -> None:
        """Attach another protocol's recordings, as if appended here in their order.

        ``other`` must have the same targets (e.g. a copy of this protocol's
        template), or be what such a protocol :meth:`gathered`, or a :meth:`part`
        of one: each target takes the values ``other``'s targets gathered.
        """
        theirs: Sequence[EFeatureTarget | GatheredValues] = other.feature_targets
        for mine, values in zip(self.feature_targets, theirs, strict=True):
            mine.extend(values)
        self.recordings.extend(other.recordings)

    def _ecode_class(self) -> type:
        if self.recordings:
            # The recordings' own class: the same as the name-based lookup unless
            # the user mapped this protocol to another eCode ("ecode" metadata key).
            return type(self.recordings[0])
        # Imported here: the eCode registry imports the Recording machinery, which
        # must not be loaded just to build targets.
        from efex_gui.core.recordings.ecodes import ecode_for_protocol

        return ecode_for_protocol(self.name)

    def reduce_ecode(self, ecode: Any, operator: Callable[..., Any]) -> Any:
        """Fill a blank eCode with the reduced stimulus parameters of the recordings.

        Parameters
        ----------
        ecode : Recording
            A blank eCode instance of this protocol's class; mutated.
        operator : callable
            NaN-ignoring reduction (``numpy.nanmean`` and friends).

        Returns
        -------
        Recording
            ``ecode``, with every ``get_params()`` key set.
        """
        if not self.global_rheobase:
            logger.warning(
                "No global threshold current given when reducing the stimulus of "
                "%s: the amplitudes are averaged as they are.",
                self.stimulus_name,
            )
        params = [recording.get_params() for recording in self.recordings]
        for key, first_value in params[0].items():
            if isinstance(first_value, list | np.ndarray):
                logger.warning(
                    "Parameter %s of %s is an array: the value of the first recording "
                    "is used.",
                    key,
                    self.stimulus_name,
                )
                setattr(ecode, key, first_value)
                continue
            if key in ("amp", "amp2") and self.global_rheobase:
                rel = [
                    _none_to_nan(getattr(recording, f"{key}_rel", None))
                    for recording in self.recordings
                ]
                value = operator(rel) * self.global_rheobase / 100.0
            else:
                value = operator([_none_to_nan(p[key]) for p in params])
            setattr(ecode, key, None if np.isnan(value) else value)
        return ecode

    @property
    def ecode(self) -> Any:
        """The averaged eCode of the matched recordings (``None`` without any)."""
        if not self.recordings:
            return None
        operator = check_protocol_mode(self.mode)
        blank = self._ecode_class()({}, {}, self.name)
        return self.reduce_ecode(blank, operator)

    def as_dict(self) -> dict[str, Any]:
        """Return the protocol as one entry of ``protocols.json``.

        Returns
        -------
        dict
            ``{"holding": {delay, amp, duration, totduration}, "step": {...}}``.
        """
        ecode = self.ecode
        return {
            "holding": {
                "delay": 0.0,
                "amp": ecode.hypamp,
                "duration": ecode.tend,
                "totduration": ecode.tend,
            },
            "step": ecode.get_stimulus_parameters(),
        }

    def __str__(self) -> str:
        return (
            f"Protocol {self.name} {float(self.amplitude)}%:\n"
            f"Number of matching recordings: {len(self.recordings)}\n"
            f"Number of feature values: {self.n_match}"
        )


def _none_to_nan(value: Any) -> Any:
    return np.nan if value is None else value
