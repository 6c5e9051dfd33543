"""Open a HEKA PatchMaster bundle with myokit and rebuild its stimuli (trap T19, T20).

myokit (BSD-3) reads the bundle's trees: groups → series → sweeps → traces (pulsed
tree) and the pulse generator (stimulus tree). It does not expose three trace fields
a current-clamp reader needs, so the pulsed tree is read again with a Trace class that
adds them: the amplifier mode the trace was recorded in (``TrRecordingMode``), its
holding current (``TrHolding``, in A) and the amplifier it came from.

Stimulus rebuild, per amplifier channel: trace k of a sweep is driven by stimulus
channel k of the series' pulse-generator entry when the two counts match. Segments
"from holding" are at the trace's holding current; constant segments are absolute
(plus holding when the channel is "relative"); only stored segments are in the trace.
A channel whose segments are all 0 or "from holding" carries no stimulus (a follower
cell in a multi-cell recording). Ramps, sines, file templates, values from parameters
and non-standard D/A scaling with a non-zero value cannot be rebuilt: ``reason`` says
so.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

#: TrRecordingMode values (PatchMaster's PulsedFile_v9)
RECORDING_MODES = {
    0: "in-out",
    1: "on-cell",
    2: "out-out",
    3: "whole-cell",
    4: "current clamp",
    5: "voltage clamp",
    6: "no mode",
}
_CC, _VC = 4, 5


def _trace_class() -> type:
    from myokit.formats.heka._patchmaster import Trace

    class ClampTrace(Trace):  # type: ignore[misc]
        """myokit's Trace plus the recording mode, holding and amplifier index."""

        def _read_properties(self, handle: Any, reader: Any) -> None:
            start = handle.tell()
            super()._read_properties(handle, reader)
            handle.seek(start + 68)  # TrRecordingMode (BYTE)
            self.recording_mode = int(reader.read1("b"))
            handle.seek(start + 69)  # TrAmplIndex (CHAR)
            self.amplifier = int(reader.read1("b"))
            handle.seek(start + 408)  # TrTrHolding (LONGREAL)
            self.holding = float(reader.read1("d"))

    return ClampTrace


def open_patchmaster(path: str) -> Any:
    """Open a PatchMaster bundle (DAT2) with the extra trace fields.

    Raises
    ------
    NotImplementedError, ValueError
        From myokit, for files it cannot read (DAT1, older versions).
    """
    from myokit.formats.heka import PatchMasterFile
    from myokit.formats.heka._patchmaster import (
        Group,
        PulsedFile,
        Series,
        Sweep,
        TreeNode,
    )

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        bundle = PatchMasterFile(path)
    try:
        bundle._handle.seek(bundle._items[".pul"][0])
        bundle._pulsed_tree = TreeNode.read(
            bundle, bundle._handle, (PulsedFile, Group, Series, Sweep, _trace_class())
        )
    except BaseException:
        bundle.close()
        raise
    return bundle


@dataclass
class Stimulus:
    """One amplifier channel's rebuilt stimulus for one sweep (nA, sample indices)."""

    current_na: np.ndarray | None
    ton: int | None = None
    toff: int | None = None
    amp_na: float = 0.0
    holding_na: float = 0.0
    reason: str = ""
    others: str = ""


def _channel_problem(channel: Any) -> str:
    from myokit.formats.heka._patchmaster import SegmentClass

    if channel._use_file_template:
        return "the stimulus comes from a file template"
    for segment in channel:
        if segment.segment_class() is not SegmentClass.Constant:
            return f"it has a {segment.segment_class()} segment"
        if segment._value_from_parameter:
            return "a segment value is set from a parameter"
    if str(channel._unit) != "[nA]":
        return f"its output unit is {channel._unit}, not a current"
    return ""


def _segment_table(channel: Any, n_sweeps: int, holding: float, dt: float) -> Any:
    """Per segment: (values in nA per sweep, stored samples per sweep, from holding)."""
    table = []
    for segment in channel:
        values = np.asarray(
            segment.values(n_sweeps, holding, channel._use_relative), dtype=float
        )
        samples = np.asarray(segment.samples(n_sweeps, dt), dtype=int)
        table.append((values, samples, bool(segment._value_from_holding)))
    return table


def rebuild(
    channel: Any,
    n_sweeps: int,
    sweep: int,
    holding_na: float,
    dt: float,
    n_samples: int,
) -> Stimulus:
    """Rebuild the stimulus of one sweep of one amplifier channel.

    Parameters
    ----------
    channel : myokit StimulusChannel
        The pulse-generator channel driving the amplifier.
    n_sweeps : int
        The sweeps the protocol plans (recorded series may stop earlier).
    sweep : int
        The sweep.
    holding_na : float
        The trace's holding current (nA).
    dt : float
        Sampling interval (s).
    n_samples : int
        The recorded trace's length.

    Returns
    -------
    Stimulus
        ``current_na`` None and ``reason`` set when it cannot be rebuilt.
    """
    problem = _channel_problem(channel)
    if problem:
        return Stimulus(None, holding_na=holding_na, reason=problem)
    table = _segment_table(channel, n_sweeps, holding_na, dt)
    silent = all(holding or not np.any(values) for values, _, holding in table)
    if not channel._use_stim_scale and not silent:
        return Stimulus(None, holding_na=holding_na, reason="non-standard D/A scaling")
    current = np.full(n_samples, holding_na)
    steps: list[tuple[int, int, float]] = []
    position = 0
    for values, samples, from_holding in table:
        length = int(samples[sweep])
        level = holding_na if (from_holding or silent) else float(values[sweep])
        current[position : position + length] = level
        if level != holding_na and length > 0:
            steps.append((position, position + length, level))
        position += length
    if position != n_samples:
        return Stimulus(
            None,
            holding_na=holding_na,
            reason=f"the protocol stores {position} samples, the trace has {n_samples}",
        )
    return _with_step(current, steps, holding_na, dt)


def _with_step(
    current: np.ndarray,
    steps: list[tuple[int, int, float]],
    holding_na: float,
    dt: float,
) -> Stimulus:
    if not steps:
        return Stimulus(
            current,
            holding_na=holding_na,
            reason="no stimulus on this amplifier channel",
        )
    test = max(steps, key=lambda s: abs(s[2] - holding_na))
    test = next(s for s in steps if abs(s[2] - holding_na) == abs(test[2] - holding_na))
    others = "; ".join(
        f"{a * dt * 1e3:.1f}-{b * dt * 1e3:.1f} ms at {level:g} nA"
        for a, b, level in steps
        if (a, b, level) != test
    )
    return Stimulus(
        current,
        ton=test[0],
        toff=test[1],
        amp_na=test[2] - holding_na,
        holding_na=holding_na,
        others=others,
    )


#: a channel that got the pulse moves by this much (mV) during it...
RESPONSE_MV = 20.0
#: ...and one that did not by less than this
SILENT_MV = 5.0


def _response_mv(voltage_mv: np.ndarray, ton: int, toff: int, dt: float) -> float:
    """How far the voltage moves from its pre-step median during a pulse (+2 ms)."""
    before = voltage_mv[max(ton - int(0.01 / dt), 0) : ton]
    during = voltage_mv[ton : toff + int(0.002 / dt)]
    if before.size == 0 or during.size == 0:
        return 0.0
    return float(np.max(np.abs(during - np.median(before))))


def _moved(stim: Stimulus, holding_na: float) -> Stimulus:
    """``stim``'s pulse on another channel's holding current."""
    assert stim.current_na is not None
    return Stimulus(
        stim.current_na - stim.holding_na + holding_na,
        ton=stim.ton,
        toff=stim.toff,
        amp_na=stim.amp_na + stim.holding_na - holding_na,
        holding_na=holding_na,
        others=stim.others,
    )


def match_responses(
    voltages_mv: list[np.ndarray], stims: list[Stimulus | None], dt: float
) -> tuple[list[Stimulus | None], str]:
    """Give a pulse to the channel that responds to it when the file links another.

    In multi-amplifier rigs the pulse generator's DA channel is linked to one trace,
    but the DA output may be wired to another amplifier. When the linked channel does
    not move during a pulse (< ``SILENT_MV``) and exactly one silent-by-file channel
    does (> ``RESPONSE_MV``), the pulse is given to that channel and a note says so.

    Returns
    -------
    tuple
        The stimuli (swapped where needed) and the note ("" when nothing moved).
    """
    out = list(stims)
    notes = []
    for s, stim in enumerate(stims):
        if stim is None or stim.ton is None or stim.toff is None:
            continue
        if _response_mv(voltages_mv[s], stim.ton, stim.toff, dt) >= SILENT_MV:
            continue
        responders = [
            o
            for o, other in enumerate(stims)
            if o != s
            and other is not None
            and other.current_na is not None
            and other.ton is None
            and _response_mv(voltages_mv[o], stim.ton, stim.toff, dt) > RESPONSE_MV
        ]
        if len(responders) != 1:
            continue
        (o,) = responders
        target = out[o]
        assert target is not None
        out[o] = _moved(stim, target.holding_na)
        out[s] = Stimulus(
            np.full_like(stim.current_na, stim.holding_na),
            holding_na=stim.holding_na,
            reason="no stimulus on this amplifier channel",
        )
        notes.append((s, o))
    return out, "; ".join(f"{s}->{o}" for s, o in notes)
