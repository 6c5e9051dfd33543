"""The stimulus an ABF file's protocol describes, read with pyabf (traps T3-T6, T9-T11).

The command waveform of an ABF file is not stored as samples: the header holds an
epoch table per DAC (type, first level, per-sweep level increment, duration) after a
pre-sweep holding period of 1/64 of the sweep. pyabf rebuilds it for ABF1 and ABF2
(neo only for ABF2, and without looking at the enable flags). This module reads:

* the DAC that drives the cell: the first DAC whose waveform is enabled; its unit
  gives the clamp (a voltage unit: voltage clamp; a current unit: current clamp);
* its epochs with their levels in every sweep, and the **test step**: the step epoch
  whose level changes across sweeps (the first of them for dual steps), else the
  step epoch furthest from holding; the other non-holding epochs (pre-pulses, second
  steps) are kept in ``others`` so they can be shown and chosen (metadata
  ``abf_epoch``: the letter of the epoch to use as the test step);
* what the acquisition mode means: gap-free (3) and event-driven (1, 2) recordings
  have no step protocol, and say so in ``note``.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from efex_gui.core.readers._channels import clean_unit, unit_kind

logger = logging.getLogger(__name__)

#: nOperationMode values
MODES = {
    1: "event-driven (variable length)",
    2: "oscilloscope (event-triggered)",
    3: "gap-free",
    4: "high-speed oscilloscope",
    5: "episodic stimulation",
}
_EPISODIC = 5
_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


@dataclass(frozen=True)
class Epoch:
    """One epoch of the command DAC, with its level in every sweep.

    ``start``/``stop`` are sample indices in the sweep (the 1/64 pre-sweep holding
    period included); ``levels`` are in the DAC's unit, one per sweep.
    """

    letter: str
    kind: str
    start: int
    stop: int
    levels: tuple[float, ...]

    @property
    def varies(self) -> bool:
        """Whether the level changes from sweep to sweep."""
        return bool(np.ptp(self.levels) > 0) if self.levels else False

    def describe(self, dt_ms: float, unit: str) -> str:
        """``"epoch C: step 147.0-647.0 ms, -50 to 100 pA"``."""
        low, high = min(self.levels), max(self.levels)
        level = f"{low:g} {unit}" if low == high else f"{low:g} to {high:g} {unit}"
        return (
            f"epoch {self.letter}: {self.kind.lower()} {self.start * dt_ms:.1f}-"
            f"{self.stop * dt_ms:.1f} ms, {level}"
        )


@dataclass
class AbfProtocol:
    """What an ABF header says about the stimulus (see the module docstring)."""

    version: str
    mode: int
    n_sweeps: int
    sweep_points: int
    dt_ms: float
    dac: int | None = None
    dac_unit: str = ""
    holding: float = 0.0
    epochs: list[Epoch] = field(default_factory=list)
    test: Epoch | None = None
    commands: list[np.ndarray] = field(default_factory=list)
    note: str = ""

    @property
    def clamp(self) -> str | None:
        """'voltage', 'current', or None when no DAC waveform is enabled."""
        kind = unit_kind(self.dac_unit) if self.dac_unit else None
        return kind

    @property
    def others(self) -> list[Epoch]:
        """The non-holding epochs other than the test step (pre-pulses, ...)."""
        return [
            e
            for e in self.epochs
            if e is not self.test and any(v != self.holding for v in e.levels)
        ]

    def summary(self) -> str:
        """One line a person reads: the test step and the other epochs."""
        if self.test is None:
            return self.note or "no step in the protocol"
        text = "test step " + self.test.describe(self.dt_ms, self.dac_unit)
        if self.others:
            text += "; also " + "; ".join(
                e.describe(self.dt_ms, self.dac_unit) for e in self.others
            )
        return text


def _open(path: str) -> Any:
    import pyabf

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pyabf.ABF(path, loadData=False)


def _enabled_dac(abf: Any) -> int | None:
    header = abf._headerV1 if abf.abfVersion["major"] == 1 else abf._dacSection
    enable, source = header.nWaveformEnable, header.nWaveformSource
    for dac in range(min(len(enable), len(abf.dacUnits))):
        if enable[dac] and source[dac] == 1:
            return dac
    return None


def _epochs(table: Any, n_sweeps: int) -> list[Epoch]:
    sweeps = table.epochWaveformsBySweep[:n_sweeps]
    first = sweeps[0]
    epochs = []
    # the first entry is the pre-sweep holding period, the last the return to hold
    for k in range(1, len(first.p1s) - 1):
        if first.p2s[k] <= first.p1s[k]:
            continue
        levels = tuple(float(s.levels[k]) for s in sweeps)
        letter = _LETTERS[k - 1] if k - 1 < len(_LETTERS) else str(k)
        epochs.append(Epoch(letter, first.types[k], first.p1s[k], first.p2s[k], levels))
    return epochs


def choose_test_step(epochs: list[Epoch], holding: float) -> Epoch | None:
    """Choose the epoch that defines the step protocol (see the module docstring)."""
    steps = [
        e for e in epochs if e.kind == "Step" and any(v != holding for v in e.levels)
    ]
    varying = [e for e in steps if e.varies]
    if varying:
        return varying[0]
    if steps:
        return max(steps, key=lambda e: max(abs(v - holding) for v in e.levels))
    return None


def choose_epoch(protocol: AbfProtocol, letter: str, path: str) -> None:
    """Make epoch ``letter`` the test step (metadata ``abf_epoch``, e.g. "E").

    Raises
    ------
    MetadataError
        No epoch of that letter, naming the epochs there are.
    """
    from efex_gui.core.errors import MetadataError

    for epoch in protocol.epochs:
        if epoch.letter == letter.strip().upper():
            protocol.test = epoch
            return
    letters = ", ".join(e.letter for e in protocol.epochs) or "none"
    raise MetadataError(
        f"abf_epoch={letter!r} is not an epoch of {path} (epochs: {letters})."
    )


def read_abf_protocol(path: str) -> AbfProtocol:
    """Read the command DAC, its epochs and the test step of an ABF file.

    Parameters
    ----------
    path : str
        The ``.abf`` file (already checked to be one).

    Returns
    -------
    AbfProtocol
        With ``note`` saying why there is no stimulus when there is none.
    """
    import pyabf

    abf = _open(path)
    dt_ms = 1000.0 / float(abf.dataRate)
    protocol = AbfProtocol(
        version=abf.abfVersionString,
        mode=int(abf.nOperationMode),
        n_sweeps=int(abf.sweepCount),
        sweep_points=int(abf.sweepPointCount),
        dt_ms=dt_ms,
    )
    dac = _enabled_dac(abf)
    if dac is None:
        protocol.note = "no DAC waveform is enabled: the stimulus is not in the file"
        return protocol
    protocol.dac = dac
    protocol.dac_unit = clean_unit(abf.dacUnits[dac])
    protocol.holding = float(abf.holdingCommand[dac])
    if protocol.mode != _EPISODIC:
        protocol.note = (
            f"{MODES.get(protocol.mode, 'unknown mode')} recording: no step protocol"
        )
        return protocol
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        table = pyabf.waveform.EpochTable(abf, dac)
    protocol.epochs = _epochs(table, protocol.n_sweeps)
    protocol.test = choose_test_step(protocol.epochs, protocol.holding)
    protocol.commands = [
        np.asarray(table.epochWaveformsBySweep[s].getWaveform(), dtype=np.float64)
        for s in range(protocol.n_sweeps)
    ]
    if protocol.test is None:
        protocol.note = "the protocol's epochs hold no step"
    return protocol
