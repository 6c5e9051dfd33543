"""Damaged inputs, made in a temporary folder from good ones.

Every function takes a good file (a synthetic NWB written by
:mod:`efex_gui.core.synthetic.demo` or a shared recording) and writes a damaged copy;
the originals are never touched. ``DAMAGES`` maps each damage class of
``docs/reliability.md`` to a maker ``(source, folder) -> (path, metadata changes)``.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import h5py
import numpy as np

Maker = Callable[[Path, Path], tuple[Path, dict[str, Any]]]


def _copy(source: Path, folder: Path, name: str | None = None) -> Path:
    target = folder / (name or f"damaged_{source.name}")
    shutil.copyfile(source, target)
    target.chmod(0o644)
    return target


def truncated(source: Path, folder: Path, fraction: float = 0.5) -> Path:
    """The first ``fraction`` of the file's bytes."""
    data = source.read_bytes()
    target = folder / f"truncated_{source.name}"
    target.write_bytes(data[: int(len(data) * fraction)])
    return target


def zero_length(source: Path, folder: Path) -> Path:
    """An empty file with the source's name."""
    target = folder / f"empty_{source.name}"
    target.write_bytes(b"")
    return target


def random_bytes(source: Path, folder: Path, seed: int = 0) -> Path:
    """As many random bytes as the source, under its extension."""
    target = folder / f"noise_{source.name}"
    size = min(source.stat().st_size, 1 << 16)
    target.write_bytes(np.random.default_rng(seed).bytes(size))
    return target


def flipped_header(source: Path, folder: Path, n_bytes: int = 64) -> Path:
    """The source with its first ``n_bytes`` bytes inverted (a damaged header)."""
    data = bytearray(source.read_bytes())
    for i in range(min(n_bytes, len(data))):
        data[i] ^= 0xFF
    target = folder / f"flipped_{source.name}"
    target.write_bytes(bytes(data))
    return target


def wrong_extension(source: Path, folder: Path, extension: str = ".abf") -> Path:
    """The source's bytes under another format's extension."""
    return _copy(source, folder, f"renamed_{source.stem}{extension}")


# --- NWB edits (the synthetic files: /acquisition/CurrentClampSeries_NNN) -----------


def _edit_nwb(source: Path, folder: Path, prefix: str, edit: Callable) -> Path:
    target = _copy(source, folder, f"{prefix}_{source.name}")
    with h5py.File(target, "r+") as f:
        edit(f)
    return target


def _first_series(f: h5py.File) -> tuple[str, h5py.Group]:
    name = sorted(f["acquisition"])[0]
    return name, f["acquisition"][name]


def _replace_data(group: h5py.Group, values: np.ndarray) -> None:
    attrs = dict(group["data"].attrs)
    del group["data"]
    data = group.create_dataset("data", data=values)
    for key, value in attrs.items():
        data.attrs[key] = value


def nan_samples(source: Path, folder: Path, value: float = np.nan) -> Path:
    """Some voltage samples of the first sweep of each protocol set to ``value``."""

    def edit(f: h5py.File) -> None:
        for group in f["acquisition"].values():
            values = np.array(group["data"][()], dtype=np.float32)
            values[100:110] = value
            _replace_data(group, values)

    return _edit_nwb(source, folder, "nan" if np.isnan(value) else "inf", edit)


def mismatched_lengths(source: Path, folder: Path) -> Path:
    """Each stimulus one tenth shorter than its response."""

    def edit(f: h5py.File) -> None:
        for stimulus in f["stimulus/presentation"].values():
            values = np.array(stimulus["data"][()])
            _replace_data(stimulus, values[: len(values) * 9 // 10])

    return _edit_nwb(source, folder, "mismatched", edit)


def missing_stimulus(source: Path, folder: Path) -> Path:
    """The stimulus series and the table pairing them removed (responses only)."""

    def edit(f: h5py.File) -> None:
        for name in list(f["stimulus/presentation"]):
            del f["stimulus/presentation"][name]
        ephys = f["general/intracellular_ephys"]
        if "intracellular_recordings" in ephys:
            del ephys["intracellular_recordings"]

    return _edit_nwb(source, folder, "nostim", edit)


def zero_rate(source: Path, folder: Path) -> Path:
    """Every series with a sampling rate of 0 Hz (dt = 1/0)."""

    def edit(f: h5py.File) -> None:
        for path in ("acquisition", "stimulus/presentation"):
            for group in f[path].values():
                group["starting_time"].attrs["rate"] = 0.0

    return _edit_nwb(source, folder, "zerorate", edit)


def first_sweep_name(path: Path) -> str:
    """The name of the first response series of an NWB file."""
    with h5py.File(path, "r") as f:
        return _first_series(f)[0]


# --- the damage classes: (source, folder) -> (file, metadata overrides) ------------


def _file_only(make: Callable[[Path, Path], Path]) -> Maker:
    return lambda source, folder: (make(source, folder), {})


def _units(overrides: dict[str, Any]) -> Maker:
    return lambda source, folder: (_copy(source, folder), dict(overrides))


#: damage class -> maker, for a synthetic NWB source (docs/reliability.md)
DAMAGES: dict[str, Maker] = {
    "truncated": _file_only(truncated),
    "zero-length": _file_only(zero_length),
    "random bytes": _file_only(random_bytes),
    "flipped header": _file_only(flipped_header),
    "wrong extension": _file_only(wrong_extension),
    "NaN samples": _file_only(nan_samples),
    "inf samples": _file_only(lambda s, f: nan_samples(s, f, np.inf)),
    "mismatched lengths": _file_only(mismatched_lengths),
    "missing stimulus": _file_only(missing_stimulus),
    "zero sampling rate": _file_only(zero_rate),
    "zero dt in metadata": _units({"dt": 0.0}),
    "empty protocol": _units({"protocol_name": "NoSuchProtocol"}),
}

#: damage classes that still read (flagged, numbers kept) -> metadata overrides
MISLABELLED: dict[str, dict[str, Any]] = {
    "voltage in V labelled mV": {"v_unit": "mV"},
    "current in A labelled pA": {"i_unit": "pA"},
}
