"""Other labs' protocol names, and the stimulus itself, to an eCode (issue 13).

BluePyEfe's table (:data:`efex_gui.core.recordings.ecodes.eCodes`) knows the BBP
names. A lab that calls its protocol "0112 steps dual", "IV_FI", "Sti 7S-Cc" or
"chirp 0.5-20 Hz" gets, in this order:

1. BluePyEfe's table (a substring of the lower-cased name), unchanged;
2. the names dictionary ``resources/defaults/protocol_names.json`` (regular
   expressions other labs' names match: steps, IV, FI, rheobase, ramp, sag, chirp,
   noise, ...; a voltage-clamp protocol maps to no eCode with its reason);
3. the stimulus itself (:func:`classify_stimulus`): a current with a few flat levels
   is a Step, one that changes linearly a Ramp.

The person confirms or changes the guess in the import dialog, and the choice is saved
with the profile (an eCode override).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence


@dataclass(frozen=True)
class EcodeGuess:
    """An eCode for a protocol, and how it was found.

    ``ecode`` is a class name of :data:`~efex_gui.core.recordings.ecodes.eCodes` or
    None; ``how`` is "table", "name", "stimulus" or "unknown"; ``reason`` a sentence for
    the person.
    """

    ecode: str | None
    how: str
    reason: str


@cache
def _dictionary() -> tuple[tuple[re.Pattern[str], str | None, str], ...]:
    from efex_gui.resources import load_default

    rows = load_default("protocol_names")["names"]
    return tuple(
        (re.compile(row["pattern"], re.IGNORECASE), row["ecode"], row.get("reason", ""))
        for row in rows
    )


def guess_from_name(protocol_name: str) -> EcodeGuess:
    """BluePyEfe's table, then the names dictionary (see the module docstring)."""
    from efex_gui.core.recordings.ecodes import ecode_key_for_protocol, eCodes

    key = ecode_key_for_protocol(protocol_name)
    if key is not None:
        name = eCodes[key].__name__
        return EcodeGuess(name, "table", f"'{protocol_name}' contains '{key}'")
    for pattern, ecode, reason in _dictionary():
        match = pattern.search(str(protocol_name))
        if match:
            why = reason or f"'{match.group(0)}' in the name is usually a {ecode}"
            return EcodeGuess(ecode, "name", why)
    unknown = f"the protocol name '{protocol_name}' is unknown"
    return EcodeGuess(None, "unknown", unknown)


def _levels_fraction(current: np.ndarray, tolerance: float) -> float:
    """Return the fraction of samples near (``tolerance``) the 4 most common levels."""
    rounded = np.round(current / tolerance)
    values, counts = np.unique(rounded, return_counts=True)
    top = values[np.argsort(counts)[-4:]]
    near = np.min(np.abs(rounded[:, None] - top[None, :]), axis=1) <= 1
    return float(np.mean(near))


def classify_stimulus(current: np.ndarray) -> str | None:
    """Classify a current as "Step", "Ramp" or None (flat, or noise/chirp).

    Parameters
    ----------
    current : numpy.ndarray
        One sweep's stimulus current (any unit).

    Returns
    -------
    str or None
        "Step" when a few flat levels hold 95 % of the samples; "Ramp" when the
        current changes at a steady rate over a fifth of the sweep; else None.
    """
    current = np.asarray(current, dtype=np.float64)
    span = float(np.ptp(current)) if current.size else 0.0
    if current.size < 50 or span == 0:
        return None
    diff = np.diff(current)
    noise = 1.4826 * float(np.median(np.abs(diff - np.median(diff))))
    jumps = float(np.mean(np.abs(diff) > 0.1 * span))
    tolerance = max(3 * noise, 0.02 * span)
    if jumps < 0.01 and _levels_fraction(current, tolerance) >= 0.95:
        return "Step"
    slope = np.diff(np.convolve(current, np.ones(25) / 25, mode="valid"))
    moving = slope[np.abs(slope) > max(3 * noise / 25, 1e-9 * span)]
    if moving.size:
        typical = float(np.median(moving))
        steady = np.abs(slope - typical) < 0.25 * abs(typical)
        if np.mean(steady) >= 0.2 and abs(typical) * np.sum(steady) > 0.3 * span:
            return "Ramp"
    return None


def guess_ecode(protocol_name: str, current: np.ndarray | None = None) -> EcodeGuess:
    """Guess the eCode by name (:func:`guess_from_name`), then by stimulus."""
    guess = guess_from_name(protocol_name)
    if guess.how != "unknown" or current is None:
        return guess
    kind = classify_stimulus(current)
    if kind is None:
        return EcodeGuess(
            None,
            "unknown",
            f"the protocol name '{protocol_name}' is unknown and the stimulus is "
            "neither a step nor a ramp: choose its eCode",
        )
    return EcodeGuess(
        kind,
        "stimulus",
        f"the protocol name '{protocol_name}' is unknown; its stimulus looks like a "
        f"{kind.lower()}",
    )


def protocols_like(
    names: Sequence[str], protocols: Iterable[str], overrides: Mapping[str, str]
) -> list[str]:
    """Return ``names``, then the ``protocols`` whose eCode is that of one of them.

    BluePyEfe matches its rheobase protocols and its automatic targets' protocols by
    exact name (``IDRest``, ``IV``, ``Step``...). A lab whose step protocol is called
    "IV_FI_saray" or "0112 steps dual" (or is mapped to ``Step`` by the person) has
    none of those names. Here a protocol joins the list when its eCode key (its
    override, else its own name, through BluePyEfe's table) is the key of one of
    ``names``: "IV_FI_saray" contains ``iv`` and joins a list holding ``IV``.

    Parameters
    ----------
    names : sequence of str
        The listed names (kept first, in their order).
    protocols : iterable of str
        The session's protocol names, in order.
    overrides : mapping
        Protocol name → eCode name (the session's ``ecode_overrides``).

    Returns
    -------
    list of str
        ``names`` followed by the protocols that joined, in their order.
    """
    from efex_gui.core.recordings.ecodes import ecode_key_for_protocol

    keys = {ecode_key_for_protocol(name) for name in names} - {None}
    joined = list(names)
    for protocol in protocols:
        if protocol in joined:
            continue
        if ecode_key_for_protocol(overrides.get(protocol) or protocol) in keys:
            joined.append(protocol)
    return joined
