"""Where each sweep's stimulus window comes from, and a protocol's consensus window.

Order of trust of a sweep's ``ton``/``toff`` (and so of ``amp``/``hypamp``):

1. ``"user"`` — the metadata (files_metadata / the GUI: typed, or a dragged window);
2. ``"file"`` — the file's own protocol (a reader's ``ton``/``toff``);
3. ``"consensus"`` — the window shared by the sweeps of the protocol in the cell;
4. ``"detected"`` — this sweep's own detection (BluePyEfe's, spec §3.5.1).

``"none"``: the recording has no stimulus interpretation (not read, or no eCode).

The consensus (:func:`apply_consensus`) is what a folder import uses; BluePyEfe's
``extract_efeatures`` arguments keep the per-sweep detection unless the run asks for
``consensus_timing=True`` (docs/compatibility.md). For each protocol of a cell read
as a :class:`~efex_gui.core.recordings.ecodes.Step`, every sweep's step is found by
the robust finder (:func:`~efex_gui.core.recordings.step_window.find_step`); the
sweeps with a clear step vote, and when most of them agree (within
:data:`AGREEMENT_MS`) the medians of their ``ton`` and ``toff``, snapped to the
sample grid, become the window of every
sweep whose timing was only detected; ``hypamp`` and ``amp`` are then computed as when
the metadata gives ``ton``/``toff``. A protocol without a common step (gap-free
recordings, noise, ramps, chirps) gets no consensus and says why.

A :class:`~efex_gui.core.recordings.ecodes.Ramp` protocol (Ramp, APThreshold) cannot
be read without a window (BluePyEfe's Ramp needs ``ton``), so its consensus is formed
from the files' currents *before* the sweeps are interpreted
(:func:`~efex_gui.core.session.protocol_reading.ramp_windows`): every sweep's ramp is
found by :func:`~efex_gui.core.recordings.ramp_window.find_ramp` and the same
:func:`protocol_consensus` decides; the window goes into the metadata of the entries
without one, marked ``"consensus"`` (or ``"detected"``: one entry's own ramp when the
sweeps do not agree).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, get_args

import numpy as np

from efex_gui.core.recordings.recording import TimingSource
from efex_gui.core.recordings.step_window import StepWindow, find_step
from efex_gui.core.units import to_na

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

    from efex_gui.core.recordings.ramp_window import RampWindow

    #: one sweep's own window, as a finder sees it
    SweepWindow = StepWindow | RampWindow

__all__ = [
    "AGREEMENT_MS",
    "SOURCE_KEY",
    "ProtocolTiming",
    "TimingSource",
    "apply_consensus",
    "apply_timing",
    "initial_source",
    "protocol_consensus",
    "stimulus_source",
]

logger = logging.getLogger(__name__)

TIMING_SOURCES: tuple[str, ...] = get_args(TimingSource)
#: Clear steps within this distance (ms) of the median window agree with it.
AGREEMENT_MS = 5.0
#: Fraction of the clear steps that must agree for a consensus.
MIN_AGREEMENT = 0.5
#: Metadata key saying where a ton/toff written into the metadata came from (a
#: consensus saved in a session); BluePyEfe ignores it.
SOURCE_KEY = "timing_source"
#: The per-sweep detection messages a consensus window makes obsolete.
_DETECTION_MESSAGES = ("no current step found", "The automatic step detection failed")


@dataclass(frozen=True)
class ProtocolTiming:
    """The consensus window of one protocol in one cell, or why there is none.

    Attributes
    ----------
    cell, protocol : str
        Where.
    ton, toff : float or None
        The consensus window (ms); None when there is no consensus.
    n_sweeps, n_clear, n_agree : int
        Sweeps looked at, with a clear step, and agreeing with the consensus.
    reason : str or None
        Why there is no consensus (None when there is one).

    Each sweep's own step stays on its recording (``own_window``) while it has its
    traces; the browser keeps one timing per protocol of every cell read.
    """

    cell: str
    protocol: str
    ton: float | None
    toff: float | None
    n_sweeps: int
    n_clear: int = 0
    n_agree: int = 0
    reason: str | None = None

    @property
    def found(self) -> bool:
        """Whether the protocol has a consensus window."""
        return self.ton is not None and self.toff is not None


def initial_source(recording: Any) -> TimingSource:
    """Where a freshly interpreted recording's window came from (metadata only)."""
    config = recording.config_data or {}
    reader = recording.reader_data or {}
    if not hasattr(recording, "ton"):
        return "none"
    if config.get("ton") is not None or config.get("toff") is not None:
        marked = config.get(SOURCE_KEY)
        return marked if marked in ("consensus", "file", "detected") else "user"
    if reader.get("ton") is not None or reader.get("toff") is not None:
        return "file"
    return "detected"


def stimulus_source(recording: Any) -> TimingSource:
    """Return the recording's ``stimulus_source`` (derived for older pickles)."""
    source = getattr(recording, "stimulus_source", None)
    return source if source in TIMING_SOURCES else initial_source(recording)


def _no_clear_reason(
    cell: str, protocol: str, windows: Sequence[SweepWindow | None], shape: str
) -> str:
    """Why no sweep of a protocol has a clear step (or ramp)."""
    if shape == "step":
        return (
            f"no sweep of {protocol} in {cell} has a clear square step (a gap-free "
            "recording, noise, a ramp or a chirp?): each sweep keeps its own "
            "detection; give ton/toff in the metadata if it is a step protocol."
        )
    reasons = [getattr(w, "reason", None) for w in windows if w is not None]
    why = next((r for r in reasons if r), "the traces hold no current")
    return (
        f"no sweep of {protocol} in {cell} has a clear current {shape} ({why}): "
        "give ton/toff (ms) in the metadata."
    )


def protocol_consensus(
    cell: str,
    protocol: str,
    windows: Sequence[SweepWindow | None],
    dt: float,
    agreement_ms: float = AGREEMENT_MS,
    shape: str = "step",
) -> ProtocolTiming:
    """Form the consensus window from the sweeps' own steps (or ramps).

    Parameters
    ----------
    cell, protocol : str
        Where (for the messages).
    windows : sequence of StepWindow, RampWindow or None
        Each sweep's step (:func:`find_step`) or ramp
        (:func:`~efex_gui.core.recordings.ramp_window.find_ramp`).
    dt : float
        Sampling interval (ms) the window is snapped to.
    agreement_ms : float
        Clear windows within this distance of the median agree.
    shape : str
        ``"step"`` or ``"ramp"``: what the windows are (for the messages).

    Returns
    -------
    ProtocolTiming
    """
    clear = [w for w in windows if w is not None and w.clear]
    base: dict[str, Any] = {
        "cell": cell,
        "protocol": protocol,
        "n_sweeps": len(windows),
    }
    if not clear:
        reason = _no_clear_reason(cell, protocol, windows, shape)
        return ProtocolTiming(ton=None, toff=None, **base, reason=reason)
    ton = float(np.median([w.ton for w in clear]))
    toff = float(np.median([w.toff for w in clear]))
    agree = [
        w for w in clear
        if abs(w.ton - ton) <= agreement_ms and abs(w.toff - toff) <= agreement_ms
    ]  # fmt: skip
    if len(agree) < MIN_AGREEMENT * len(clear):
        return ProtocolTiming(
            ton=None, toff=None, n_clear=len(clear), n_agree=len(agree), **base,
            reason=f"the {shape}s of {protocol} in {cell} do not share one timing "
            f"(only {len(agree)} of {len(clear)} clear {shape}s within {agreement_ms} "
            "ms of the median): each sweep keeps its own detection.",
        )  # fmt: skip
    ton = float(np.median([w.ton for w in agree]))
    toff = float(np.median([w.toff for w in agree]))
    snapped_on = round(round(ton / dt) * dt, 9)
    snapped_off = round(round(toff / dt) * dt, 9)
    return ProtocolTiming(
        ton=snapped_on, toff=snapped_off, n_clear=len(clear), n_agree=len(agree),
        **base,
    )  # fmt: skip


def _metadata_amplitudes(recording: Any) -> None:
    """Reset ``amp``/``hypamp`` to the metadata's values (None when not given)."""
    unit = recording.current_unit()
    for key in ("amp", "hypamp"):
        config = recording.config_data or {}
        source = config if key in config else (recording.reader_data or {})
        value = source.get(key)
        setattr(recording, key, None if value is None else to_na(value, unit))


def apply_timing(
    recording: Any,
    ton: float,
    toff: float,
    source: TimingSource,
    efel_settings: Mapping[str, Any] | None = None,
) -> None:
    """Re-interpret a recording with the window ``[ton, toff]`` (ms).

    ``hypamp`` and ``amp`` are computed as when the metadata gives ``ton``/``toff``
    (unless the metadata gives them too); the spike threshold and the (deferred)
    spike count follow the new window. The recording's metadata dict is not changed.

    Raises
    ------
    TracesDroppedError
        The recording's traces were dropped.
    """
    from efex_gui.core.recordings.spikes import TracesDroppedError

    if recording.current is None or recording.t is None:
        raise TracesDroppedError(
            f"Cannot move the stimulus window of {recording._where()}: its traces "
            "were dropped."
        )
    config = dict(recording.config_data)
    config["ton"], config["toff"] = float(ton), float(toff)
    _metadata_amplitudes(recording)
    recording.warnings = [
        w for w in recording.warnings if not w.startswith(_DETECTION_MESSAGES)
    ]
    recording.interpret(recording.t, recording.current, config, recording.reader_data)
    recording.set_autothreshold()
    recording.defer_spikecount(efel_settings)
    recording.stimulus_source = source


def _step_recordings(recordings: Iterable[Any]) -> dict[str, list[Any]]:
    """Return the recordings interpreted as a Step, by protocol (sweep order kept)."""
    from efex_gui.core.recordings.ecodes import Step

    groups: dict[str, list[Any]] = {}
    for recording in recordings:
        if type(recording) is Step and recording.current is not None:
            groups.setdefault(recording.protocol_name, []).append(recording)
    return groups


def apply_consensus(
    cell: str,
    recordings: Iterable[Any],
    efel_settings: Mapping[str, Any] | None = None,
    agreement_ms: float = AGREEMENT_MS,
) -> dict[str, ProtocolTiming]:
    """Give each Step protocol of a cell its consensus window (in place).

    Only sweeps whose window was detected (not given by the user or the file) take
    the consensus; each recording keeps its own step in ``own_window``. A protocol
    without a consensus leaves its sweeps as they are, each with a warning saying so.

    Parameters
    ----------
    cell : str
        The cell's name.
    recordings : iterable of Recording
        The cell's recordings, with their traces.
    efel_settings : mapping, optional
        The settings of the deferred spike counts.
    agreement_ms : float
        See :func:`protocol_consensus`.

    Returns
    -------
    dict
        Protocol → its :class:`ProtocolTiming`.
    """
    timings: dict[str, ProtocolTiming] = {}
    for protocol, group in _step_recordings(recordings).items():
        windows = [find_step(r.current, float(r.dt)) for r in group]
        timing = protocol_consensus(
            cell, protocol, windows, float(group[0].dt), agreement_ms
        )
        timings[protocol] = timing
        for recording, window in zip(group, windows, strict=True):
            recording.own_window = window
            if stimulus_source(recording) != "detected":
                continue
            if timing.found and timing.ton is not None and timing.toff is not None:
                apply_timing(
                    recording, timing.ton, timing.toff, "consensus", efel_settings
                )
            else:
                recording.warn(str(timing.reason), logging.INFO)
    return timings
