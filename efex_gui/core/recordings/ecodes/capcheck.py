"""CapCheck eCode (BluePyEfe 2.3.63): as PinkNoise, detected on the raw current."""

from __future__ import annotations

from efex_gui.core.recordings.ecodes.pinknoise import PinkNoise


class CapCheck(PinkNoise):
    """A capacitance-check stimulus; the active region is found on the raw current."""

    detect_on_smoothed = False

    default_protocol_name = "CapCheck"
