"""Property-based: whatever the bytes and the metadata, readers raise only our errors.

Every reader gets random bytes, or a real file with a few random byte edits, under
random (often wrong) metadata. The only exceptions allowed out are the documented ones
of :mod:`efex_gui.core.errors` (``ReaderError``, ``MetadataError``, ``UnitError``, ...,
all ``EfexError``). The number of examples is small so the suite stays fast; the
seeds are derandomised so a failure reproduces.
"""

from __future__ import annotations

import logging
import os
from typing import TYPE_CHECKING, Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from efex_gui.core.errors import EfexError
from efex_gui.core.readers import (
    atf_reader,
    axon_reader,
    csv_lccr_reader,
    igor_reader,
    nwb_reader,
    read_file,
    text_reader,
    wcp_reader,
)
from tests.conftest import SHARED_DATA

if TYPE_CHECKING:
    from pathlib import Path

READERS = {
    ".abf": axon_reader,
    ".ibw": igor_reader,
    ".nwb": nwb_reader,
    ".txt": csv_lccr_reader,
    ".csv": text_reader,
    ".atf": atf_reader,
    ".wcp": wcp_reader,
}

#: small real files to mutate (shared recordings; skipped one by one when absent)
REAL_FILES = {
    ".abf": ("formats", "abf", "File_axon_5.abf"),
    ".ibw": ("bluepyefe-exp-data", "B6", "B6_Ch3_IDRest_181.ibw"),
    ".atf": ("formats", "atf", "18702001-step.atf"),
    ".wcp": ("formats", "wcp", "myokit-wcp-file.wcp"),
    ".txt": ("formats", "text", "example_trace1.txt"),
}

#: more examples for a deeper search: EFEX_FUZZ_EXAMPLES=500 pytest tests/reliability
FUZZ = settings(
    max_examples=int(os.environ.get("EFEX_FUZZ_EXAMPLES", "12")),
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

_UNITS = st.sampled_from(
    ["mV", "V", "pA", "nA", "A", "s", "ms", "volts", "", "furlong"]
)
_ODD = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**6), 10**6),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=5),
    st.lists(st.integers(-5, 5), max_size=3),
)
_NUMBER = st.one_of(st.floats(-1e3, 1e3), st.just(0.0), st.just(float("nan")), _ODD)


@st.composite
def metadata(draw: Any) -> dict[str, Any]:
    """A files_metadata entry with random, often impossible, values."""
    config: dict[str, Any] = {}
    for key in ("v_unit", "i_unit", "t_unit"):
        if draw(st.booleans()):
            config[key] = draw(st.one_of(_UNITS, _ODD))
    for key in ("dt", "ton", "toff", "amp", "hypamp", "ljp"):
        if draw(st.booleans()):
            config[key] = draw(_NUMBER)
    if draw(st.booleans()):
        config["amplitudes"] = draw(st.one_of(st.lists(_NUMBER, max_size=4), _ODD))
    if draw(st.booleans()):
        config["protocol_name"] = draw(
            st.one_of(st.sampled_from(["Step", "IDRest"]), _ODD)
        )
    for key in ("v_channel", "i_channel", "repetition", "columns", "abf_layout"):
        if draw(st.integers(0, 3)) == 0:
            config[key] = draw(_ODD)
    config["skip_bad_traces"] = draw(st.booleans())
    return config


def _config(path: Path, extra: dict[str, Any]) -> dict[str, Any]:
    config = dict(extra)
    if path.suffix == ".ibw":
        config.update(v_file=str(path), i_file=str(path))
    else:
        config["filepath"] = str(path)
    return config


def _only_our_errors(reader: Any, config: dict[str, Any]) -> None:
    logging.disable(logging.CRITICAL)
    try:
        reader(config)
    except EfexError:
        pass
    finally:
        logging.disable(logging.NOTSET)


@pytest.mark.parametrize("extension", sorted(READERS))
@FUZZ
@given(data=st.binary(min_size=0, max_size=2048), config=metadata())
def test_random_bytes_raise_only_our_errors(
    extension: str, data: bytes, config: dict, tmp_path: Path
) -> None:
    path = tmp_path / f"fuzz{extension}"
    path.write_bytes(data)
    _only_our_errors(READERS[extension], _config(path, config))
    _only_our_errors(read_file, _config(path, config))


def _mutate(original: bytes, edits: list[tuple[float, int]]) -> bytes:
    data = bytearray(original)
    for position, value in edits:
        data[int(position * (len(data) - 1))] = value
    return bytes(data)


_EDITS = st.lists(
    st.tuples(st.floats(0, 1), st.integers(0, 255)), min_size=1, max_size=8
)


@pytest.mark.parametrize("extension", sorted(REAL_FILES))
@FUZZ
@given(edits=_EDITS, config=metadata(), cut=st.floats(0.0, 1.0))
def test_mutated_real_files_raise_only_our_errors(
    extension: str, edits: list, config: dict, cut: float, tmp_path: Path
) -> None:
    source = SHARED_DATA.joinpath(*REAL_FILES[extension])
    if not source.exists():
        pytest.skip(f"needs the shared recording {source}")
    original = source.read_bytes()
    damaged = _mutate(original, edits)
    if cut < 0.2:  # sometimes also truncated
        damaged = damaged[: int(len(damaged) * cut * 5)]
    path = tmp_path / f"mutated{extension}"
    path.write_bytes(damaged)
    _only_our_errors(READERS[extension], _config(path, config))


@pytest.fixture(scope="module")
def small_nwb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small synthetic NWB file (two short sweeps)."""
    from efex_gui.core.synthetic.nwb_writer import write_nwb

    rng = np.random.default_rng(0)
    sweeps = [
        {
            "protocol_name": "Step",
            "dt": 0.1,
            "voltage": -70 + rng.normal(0, 0.5, 400),
            "current": np.r_[np.zeros(100), np.full(200, 0.2), np.zeros(100)],
            "id": f"CurrentClampSeries_{k:03d}",
            "stimulus": {"percent": 100.0},
            "repetition": 0,
        }
        for k in range(2)
    ]
    cell = {"name": "Fuzz", "sweeps": sweeps}
    return write_nwb(cell, tmp_path_factory.mktemp("nwb") / "fuzz.nwb")


@FUZZ
@given(edits=_EDITS, config=metadata())
def test_mutated_nwb_raises_only_our_errors(
    small_nwb: Path, edits: list, config: dict, tmp_path: Path
) -> None:
    path = tmp_path / "mutated.nwb"
    path.write_bytes(_mutate(small_nwb.read_bytes(), edits))
    _only_our_errors(nwb_reader, _config(path, config))
