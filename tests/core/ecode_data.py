"""Shared metadata for the recording / eCode / cell / rheobase tests (real data).

Each helper returns files_metadata entries for the shared recordings (skipping the
test when ../shared/data is absent) with the configurations of spec §10.
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import pytest

from tests.conftest import shared_path

B6B8_CONFIG = {"i_unit": "pA", "v_unit": "mV", "t_unit": "s", "dt": 0.00025, "ljp": 14}
B6_SWEEPS = range(181, 186)
B8_SWEEPS = range(145, 150)
X_CELL = "C060109A1-SR-C1"
SAHP_TIMING = {"ton": 10, "tmid": 260, "tmid2": 360, "toff": 1360}


def b6b8_files(cell: str) -> list[dict]:
    """The five IDRest Igor pairs of cell ``"B6"`` or ``"B8"``."""
    folder = shared_path("bluepyefe-exp-data", cell)
    sweeps = B6_SWEEPS if cell == "B6" else B8_SWEEPS
    return [
        dict(
            B6B8_CONFIG,
            i_file=str(folder / f"{cell}_Ch0_IDRest_{n}.ibw"),
            v_file=str(folder / f"{cell}_Ch3_IDRest_{n}.ibw"),
        )
        for n in sweeps
    ]


def b95_config() -> dict:
    """The single B95 IDRest sweep (pA / mV / s, ljp 14)."""
    folder = shared_path("bluepyefe-exp-data")
    return dict(
        B6B8_CONFIG,
        i_file=str(folder / "B95_Ch0_IDRest_107.ibw"),
        v_file=str(folder / "B95_Ch3_IDRest_107.ibw"),
    )


def nwb_config() -> dict:
    """The hippocampus-portal NWB file (A / V / s, ljp 0), protocol Step."""
    path = shared_path("bluepyefe-exp-data", "hippocampus-portal", "99111002.nwb")
    return {
        "filepath": str(path),
        "protocol_name": "Step",
        "i_unit": "A",
        "v_unit": "V",
        "t_unit": "s",
        "ljp": 0,
    }


def x_files(protocol: str, **extra: Any) -> list[dict]:
    """The X cell's Igor pairs of one protocol (A / V, dt 0.25 ms)."""
    folder = shared_path("sscx", "input-traces", X_CELL)
    numbers = sorted(
        p.name.split("_")[-1][:-4] for p in folder.glob(f"X_{protocol}_ch0_*.ibw")
    )
    base = {"i_unit": "A", "v_unit": "V", "t_unit": "ms", "dt": 0.25, "ljp": 14}
    return [
        dict(
            base,
            i_file=str(folder / f"X_{protocol}_ch0_{n}.ibw"),
            v_file=str(folder / f"X_{protocol}_ch1_{n}.ibw"),
            **extra,
        )
        for n in numbers
    ]


def read_traces(config: dict) -> list[dict]:
    """Trace dicts of one metadata entry, through efex_gui's readers."""
    from efex_gui.core.readers import read_file

    return read_file(copy.deepcopy(config))


def bluepyefe_ecodes() -> dict:
    """BluePyEfe's name → eCode table (skips the test without bluepyefe)."""
    ecode = pytest.importorskip("bluepyefe.ecode")
    return ecode.eCodes


def same_value(a: Any, b: Any) -> bool:
    """Exact equality, NaN equal to NaN, arrays element-wise."""
    if a is None or b is None:
        return a is b
    if np.ndim(a) or np.ndim(b) or isinstance(a, list) or isinstance(b, list):
        a_arr, b_arr = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
        return a_arr.shape == b_arr.shape and np.array_equal(
            a_arr, b_arr, equal_nan=True
        )
    if isinstance(a, float | np.floating) and np.isnan(a):
        return bool(np.isnan(b))
    return bool(a == b)
