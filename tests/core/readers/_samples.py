"""Sample-file configurations shared by the reader tests (files in ../shared/data)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pathlib import Path

#: The 27 step amplitudes (pA) of the LCCR dummy file, in column order.
LCCR_AMPLITUDES = [
    10, -10, 20, -20, 30, -30, 40, -40, 50, -50, 60, -60, 70, -70, 80, -80, 90, -90,
    100, -100, 150, 200, 250, 300, 400, 500, 600,
]  # fmt: skip
#: Path parts (under the shared data folder) of the LCCR dummy file.
LCCR_FILE = ("bluepyefe-exp-data", "csv_lccr", "dummy", "dummy_ch1_cols.txt")
#: Path parts of the two-column text example.
TEXT_FILE = ("formats", "text", "example_trace1.txt")


def lccr_config(path: str | Path, **extra: Any) -> dict:
    """The LCCR dummy file's metadata (BluePyEfe's test configuration) plus ``extra``.

    Parameters
    ----------
    path : str or Path
        The LCCR file.
    **extra
        Keys added or replaced (``filepath`` included).

    Returns
    -------
    dict
        A files_metadata entry for ``read_file``.
    """
    return {
        "filepath": str(path),
        "dt": 0.1,
        "amplitudes": LCCR_AMPLITUDES,
        "hypamp": -20,
        "ton": 200,
        "toff": 800,
        "v_unit": "mV",
        "t_unit": "ms",
        "i_unit": "pA",
        **extra,
    }


def text_units(path: str | Path, **extra: Any) -> dict:
    """A text file's metadata in ms / mV / nA, plus ``extra``."""
    units = {"t_unit": "ms", "v_unit": "mV", "i_unit": "nA"}
    return {"filepath": str(path), **units, **extra}


def text_config(path: str | Path, **extra: Any) -> dict:
    """The two-column text example's metadata (a synthesised step) plus ``extra``.

    Parameters
    ----------
    path : str or Path
        The text file.
    **extra
        Keys added or replaced.

    Returns
    -------
    dict
        A files_metadata entry for ``read_file``.
    """
    step = {"ton": 700.0, "toff": 2700.0, "amp": 0.3, "hypamp": -0.05}
    return text_units(path, **{**step, **extra})
