"""CapCheck eCode (BluePyEfe 2.3.63): as PinkNoise, detected on the raw current."""

from __future__ import annotations

from typing import Any

from efex_gui.core.recordings.ecodes.pinknoise import PinkNoise


class CapCheck(PinkNoise):
    """A capacitance-check stimulus; the active region is found on the raw current."""

    detect_on_smoothed = False

    def __init__(
        self,
        config_data: dict[str, Any],
        reader_data: dict[str, Any],
        protocol_name: str = "CapCheck",
        efel_settings: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(config_data, reader_data, protocol_name, efel_settings)
