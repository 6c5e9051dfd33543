"""NWB files (``.nwb``): the HDF5 helpers every layout reader shares (spec §7.5).

Opening and layout detection, scaled data, sampling rate, trace formatting and the
protocol / repetition arguments; the reader itself is :mod:`.reader`.

Layout detection follows BluePyEfe 2.3.63: BBP (``data_organization``), else VU (a
``DA`` stimulus sweep with an ``AD`` acquisition twin), else AIBS
(``acquisition/timeseries``), else TRT (first acquisition name ``index_…``), else
Scala (the default, which also reads plain NWB 2 icephys files whose series are named
``…Series_N`` / ``…StimulusSeries_N``).

Trace formatting is BluePyEfe's: ``data × conversion`` cast to float32, ``dt = 1 /
rate`` (a Python float), units from the ``unit`` attributes, ``id`` = series name,
``repetition``. Two deliberate extensions, both only where BluePyEfe gives nothing or
crashes: a Scala-layout current-clamp series whose stimulus is not found by name is
paired through the icephys tables or ``sweep_number``
(:mod:`efex_gui.core.readers.nwb.pairing`); a series with ``timestamps`` instead of
``starting_time`` gets ``dt`` from uniform timestamps. A non-zero NWB ``offset``
attribute is added (BluePyEfe ignores it; none of its test files has one).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import h5py
import numpy as np

from efex_gui.core.errors import MetadataError, ReaderError
from efex_gui.core.readers._common import (
    TraceDict,
    decode,
    reading,
    require_file,
)

if TYPE_CHECKING:
    from collections.abc import Mapping

logger = logging.getLogger(__name__)

HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"


class RepetitionError(MetadataError, ValueError):
    """A requested repetition is not in the file (a ``ValueError`` as in BluePyEfe)."""


@dataclass(frozen=True)
class LayoutRequest:
    """What the NWB reader asks of a layout reader, besides the open file.

    Attributes
    ----------
    protocols : list of str or None
        The requested protocol names (None: all).
    repetitions : list of int or None
        The requested repetitions (None: all).
    config_data : Mapping
        The files_metadata entry (``v_file``, ``toff``: for the layouts that use them).
    path : str
        The file's path, for messages and trace ids.
    """

    protocols: list[str] | None
    repetitions: list[int] | None
    config_data: Mapping[str, Any]
    path: str

    @property
    def wanted(self) -> list[str] | None:
        """The requested protocol names in lower case (None: all)."""
        return None if self.protocols is None else [p.lower() for p in self.protocols]


def scaled(dataset: h5py.Dataset) -> np.ndarray:
    """Return ``data × conversion (+ offset)`` as float32, as BluePyEfe does."""
    conversion = dataset.attrs.get("conversion", 1.0)
    values = np.array(dataset[()] * conversion, dtype=np.float32)
    offset = float(np.asarray(dataset.attrs.get("offset", 0.0)).reshape(-1)[0])
    if offset:
        values = np.array(dataset[()] * conversion + offset, dtype=np.float32)
    return values


def sampling(series: h5py.Group, path: str) -> tuple[float, str]:
    """Return ``(dt, t_unit)`` of a series (``starting_time`` rate, else timestamps)."""
    if "starting_time" in series:
        start = series["starting_time"]
        rate = float(start.attrs["rate"])
        if not (np.isfinite(rate) and rate > 0):
            raise ReaderError(path, f"{series.name}: sampling rate {rate} Hz")
        return 1.0 / rate, decode(start.attrs.get("unit", "seconds"))
    if "timestamps" in series:
        stamps = np.asarray(series["timestamps"][()], dtype=np.float64)
        steps = np.diff(stamps)
        if steps.size == 0 or not np.allclose(steps, steps[0], rtol=1e-6, atol=0):
            raise ReaderError(path, f"{series.name}: non-uniform timestamps")
        unit = decode(series["timestamps"].attrs.get("unit", "seconds"))
        return float(steps[0]), unit
    raise ReaderError(path, f"{series.name}: no starting_time rate and no timestamps")


def format_trace(
    voltage: h5py.Group,
    current: h5py.Group,
    timing: h5py.Group,
    trace_id: str,
    repetition: Any,
    path: str,
) -> TraceDict:
    """Build a BluePyEfe NWB trace dict from response, stimulus and timing series."""
    dt, t_unit = sampling(timing, path)
    return {
        "voltage": scaled(voltage["data"]),
        "current": scaled(current["data"]),
        "dt": dt,
        "id": str(trace_id),
        "repetition": repetition,
        "i_unit": decode(current["data"].attrs.get("unit", "")),
        "v_unit": decode(voltage["data"].attrs.get("unit", "")),
        "t_unit": t_unit,
    }


def as_protocols(value: Any) -> list[str] | None:
    """Normalise ``protocol_name`` (None, str or list) to None or a list of str."""
    if value is None:
        return None
    if isinstance(value, str | bytes):
        return [decode(value)]
    return [str(v) for v in value]


def as_repetitions(value: Any, path: str) -> list[int] | None:
    """Normalise ``repetition`` (None, int, str or list) to None or a list of int."""
    if value is None:
        return None
    values = value if isinstance(value, list | tuple) else [value]
    try:
        return [int(v) for v in values]
    except (TypeError, ValueError) as exc:
        raise MetadataError(
            f"repetition={value!r} is not an integer (file {path})."
        ) from exc


def detect_layout(f: h5py.File) -> str:
    """Return 'bbp', 'vu', 'aibs', 'trt' or 'scala' (BluePyEfe 2.3.63's order)."""
    if "data_organization" in f:
        return "bbp"
    acquisition = f.get("acquisition")
    presentation = f.get("stimulus/presentation")
    if (
        acquisition is not None
        and presentation is not None
        and any(
            "DA" in name and name.replace("DA", "AD") in acquisition
            for name in presentation
        )
    ):
        return "vu"
    if "acquisition/timeseries" in f:
        return "aibs"
    if acquisition is not None:
        names = list(acquisition)
        if names and names[0].lower().startswith("index_"):
            return "trt"
    return "scala"


def open_nwb(path: str) -> h5py.File:
    """Open an NWB (HDF5) file for reading, with a ``ReaderError`` on bad bytes."""
    require_file(path)
    with open(path, "rb") as handle:
        magic = handle.read(8)
    if magic != HDF5_MAGIC:
        raise ReaderError(path, "not an HDF5/NWB 2 file (bad signature)")
    with reading(path, "an NWB (HDF5) file"):
        return h5py.File(path, "r")


def read_attr_or_dataset(group: h5py.Group, key: str) -> Any:
    """Read an attribute of ``group``, else its scalar dataset ``key``; or None."""
    if key in group.attrs:
        return decode(group.attrs[key])
    if key in group and isinstance(group[key], h5py.Dataset):
        return decode(group[key][()])
    return None
