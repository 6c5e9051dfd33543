"""Helpers shared by every reader: metadata checks, file checks, trace validation.

Error policy (the same for every reader in this package):

* a missing file raises :class:`ReaderFileNotFoundError`, which is both our
  :class:`~efex_gui.core.errors.ReaderError` and Python's ``FileNotFoundError``, so
  scripts (and BluePyEfe's tests) that catch ``FileNotFoundError`` keep working;
* an unreadable, truncated or foreign file raises ``ReaderError(path, reason)``;
* a missing metadata key raises :class:`~efex_gui.core.errors.MetadataError` (also a
  ``KeyError``, which is what BluePyEfe raises) naming the key and the file;
* a trace that cannot be used downstream (NaN/inf samples, empty, voltage and current
  of different lengths, ``dt <= 0``) raises ``ReaderError`` naming the file and trace.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, TypedDict

import numpy as np

from efex_gui.core.errors import EfexError, MetadataError, ReaderError
from efex_gui.core.importing.file_names import PATH_KEYS as _PATH_KEYS


class TraceDict(TypedDict, total=False):
    """One trace as a reader returns it (BluePyEfe's keys, then efex_gui's).

    Every reader gives ``voltage`` and ``dt``; the other keys are there when the file
    (or the metadata) says them. Units are the file's: the recording converts.
    """

    #: the voltage and current samples (``current`` None: no current channel)
    voltage: Any
    current: Any
    #: the sampling step, in ``t_unit``
    dt: Any
    #: the sweep's name in its file, and its repetition (NWB)
    id: str
    repetition: Any
    i_unit: Any
    v_unit: Any
    t_unit: Any
    #: the stimulus a reader found in the file (``file`` stimulus source)
    ton: Any
    toff: Any
    amp: Any
    hypamp: Any
    #: LCCR text files: the time axis, the liquid junction potential, the file name
    t: Any
    ljp: Any
    filename: str
    #: where the current comes from ("recorded", "metadata", "none") and why
    current_source: str
    stimulus_note: str
    #: where the step timings come from (see ``recordings.timing_consensus``)
    stimulus_source: str
    #: a note on the whole file (e.g. voltage-clamp series skipped), on its first trace
    reader_note: str
    #: the clamp mode and the channels read (multi-channel formats)
    clamp: str
    v_channel: str | None
    i_channel: str | None
    #: HEKA bundles: the group and series, holding current (pA), complete series
    heka_group: str
    heka_series: int
    holding_current_pa: float
    series_complete: bool
    #: the simulated demo: protocol, true spike count and stimulus (tests, benchmarks)
    protocol_name: str
    spikecount: int
    stimulus: dict[str, Any]


#: metadata key asking a reader for the raw channels (no refusal, no stimulus needed)
RAW_ONLY = "_raw_only"
Reader = Callable[[dict[str, Any]], list[TraceDict]]

logger = logging.getLogger(__name__)


class ReaderFileNotFoundError(ReaderError, FileNotFoundError):
    """A recording file does not exist (``ReaderError`` and ``FileNotFoundError``)."""


def config_path(config_data: dict[str, Any]) -> str:
    """Return the file a metadata dict points at (``filepath``, else ``v_file``).

    Parameters
    ----------
    config_data : dict
        One files_metadata entry.

    Returns
    -------
    str
        The path, as given.

    Raises
    ------
    MetadataError
        If neither ``filepath`` nor ``v_file`` is present.
    """
    if not isinstance(config_data, dict):
        raise MetadataError(
            f"The file metadata must be a dict, got {type(config_data).__name__}."
        )
    if "filepath" in config_data:
        return str(config_data["filepath"])
    if "v_file" in config_data:
        return str(config_data["v_file"])
    raise MetadataError(
        "No 'filepath' or 'v_file' provided in the file metadata "
        f"({sorted(config_data)!r}); cannot choose a reader."
    )


def check_metadata(
    config_data: dict[str, Any], keys: Iterable[str], reader: str
) -> None:
    """Raise ``MetadataError`` naming the required keys missing from the metadata.

    Also checks the type of the keys readers use (:func:`check_metadata_types`).
    """
    missing = [k for k in keys if k not in config_data]
    where = config_data.get("filepath") or config_data.get("v_file") or "?"
    if missing:
        raise MetadataError(
            f"The trace reader {reader} expects the metadata {list(keys)}; "
            f"missing {missing} for file {where}."
        )
    check_metadata_types(config_data, str(where))


def metadata_filepath(config_data: dict[str, Any], reader: str) -> str:
    """Return the metadata's ``filepath`` (see :func:`check_metadata`).

    Raises
    ------
    MetadataError
        ``filepath`` is missing (the message names ``reader``) or of a wrong type.
    """
    check_metadata(config_data, ["filepath"], reader)
    return str(config_data["filepath"])


_NUMBER_KEYS = ("dt", "ton", "toff", "amp", "hypamp", "ljp", "v_corr")
_TEXT_KEYS = ("v_unit", "i_unit", "t_unit", "abf_layout", "abf_epoch")


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float | np.integer | np.floating) and not isinstance(
        value, bool | np.bool_
    )


def _is_list_of(value: Any, check: Callable[[Any], bool]) -> bool:
    return isinstance(value, list | tuple | np.ndarray) and all(check(v) for v in value)


def _is_text(value: Any) -> bool:
    return isinstance(value, str | bytes)


def _is_channel(value: Any) -> bool:
    return _is_text(value) or (_is_number(value) and float(value).is_integer())


_SHAPES: dict[str, tuple[Callable[[Any], bool], str]] = {
    **dict.fromkeys(_NUMBER_KEYS, (_is_number, "a number")),
    **dict.fromkeys(_TEXT_KEYS, (_is_text, "a string")),
    **{k: (lambda v: isinstance(v, str | os.PathLike), "a path") for k in _PATH_KEYS},
    "amplitudes": (lambda v: _is_list_of(v, _is_number), "a list of numbers"),
    "protocol_name": (
        lambda v: _is_text(v) or _is_list_of(v, _is_text),
        "a string or a list of strings",
    ),
    "repetition": (
        lambda v: _is_channel(v) or _is_list_of(v, _is_channel),
        "an integer or a list of integers",
    ),
    "v_channel": (_is_channel, "a channel index or name"),
    "i_channel": (_is_channel, "a channel index or name"),
    "columns": (lambda v: _is_list_of(v, _is_text), "a list of column names"),
}


def check_metadata_types(config_data: dict[str, Any], where: str = "?") -> None:
    """Raise ``MetadataError`` for a reader key whose value has an impossible type.

    ``None`` always passes (it means "not given"). Numbers are Python or NumPy reals
    (not booleans); units are strings; ``amplitudes`` a list of numbers;
    ``protocol_name`` a string or list of strings; ``repetition`` an integer, a
    string or a list of them; channels an index or a name.

    Raises
    ------
    MetadataError
        Naming the key, its value and the file.
    """
    for key, (accepts, expected) in _SHAPES.items():
        value = config_data.get(key)
        if value is not None and not accepts(value):
            raise MetadataError(
                f"The metadata {key}={value!r} of file {where} should be {expected}."
            )


def require_file(path: str) -> str:
    """Check that ``path`` is an existing, non-empty regular file and return it."""
    if not os.path.exists(path):
        raise ReaderFileNotFoundError(path, "file not found")
    if not os.path.isfile(path):
        raise ReaderError(path, "not a regular file")
    if os.path.getsize(path) == 0:
        raise ReaderError(path, "the file is empty (0 bytes)")
    return path


@contextmanager
def reading(path: str, what: str) -> Iterator[None]:
    """Turn any low-level failure while reading ``path`` into a ``ReaderError``.

    Our own errors (``EfexError``) pass through unchanged.
    """
    try:
        yield
    except EfexError:
        raise
    except FileNotFoundError as exc:
        raise ReaderFileNotFoundError(path, f"file not found ({exc})") from exc
    except MemoryError as exc:
        raise ReaderError(path, f"cannot read as {what}: file too large") from exc
    except Exception as exc:  # third-party readers raise anything on bad bytes
        detail = str(exc)
        if len(detail) > 200:  # some readers put raw bytes in their messages
            detail = detail[:200] + "..."
        raise ReaderError(
            path, f"cannot read as {what}: {type(exc).__name__}: {detail}"
        ) from exc


def _check_array(path: str, label: str, name: str, arr: Any) -> int:
    values = np.asarray(arr)
    if values.ndim != 1:
        raise ReaderError(
            path, f"{label}: {name} is not a 1-D trace (shape {values.shape})"
        )
    if values.size == 0:
        raise ReaderError(path, f"{label}: {name} has no samples")
    if values.dtype.kind not in "fiu":
        raise ReaderError(path, f"{label}: {name} is not numeric ({values.dtype})")
    if values.dtype.kind == "f" and not np.isfinite(values).all():
        bad = int(np.count_nonzero(~np.isfinite(values)))
        raise ReaderError(path, f"{label}: {name} holds {bad} NaN/inf samples")
    return values.size


def validate_trace(path: str, trace: TraceDict, index: int) -> TraceDict:
    """Check one trace dict for what the downstream code cannot handle.

    Parameters
    ----------
    path : str
        The file the trace came from (for messages).
    trace : dict
        A reader's trace dict.
    index : int
        Position of the trace in the reader's output (for messages).

    Returns
    -------
    dict
        ``trace``, unchanged.

    Raises
    ------
    ReaderError
        Empty or non-finite data, voltage/current length mismatch, or ``dt <= 0``.
    """
    label = f"trace {trace.get('id', index)!s}"
    n_v = _check_array(path, label, "voltage", trace.get("voltage"))
    current = trace.get("current")
    if current is not None and np.ndim(current) > 0:
        n_i = _check_array(path, label, "current", current)
        if n_i != n_v:
            raise ReaderError(
                path, f"{label}: voltage has {n_v} samples but current has {n_i}"
            )
    dt = trace.get("dt")
    if dt is not None:
        try:
            ok = float(dt) > 0 and np.isfinite(float(dt))
        except (TypeError, ValueError):
            ok = False
        if not ok:
            raise ReaderError(path, f"{label}: impossible sampling interval dt={dt!r}")
    return trace


def validate_traces(
    path: str, traces: list[TraceDict], config_data: Mapping[str, Any]
) -> list[TraceDict]:
    """Validate every trace of a reader's output (see :func:`validate_trace`).

    With the metadata's ``"skip_bad_traces": true``, unusable traces are dropped with
    a warning instead of failing the whole file.
    """
    skip_bad = bool(config_data.get("skip_bad_traces"))
    kept = []
    for index, trace in enumerate(traces):
        try:
            kept.append(validate_trace(path, trace, index))
        except ReaderError as exc:
            if not skip_bad:
                raise
            logger.warning("Skipping a trace: %s", exc)
    return kept


def step_current(
    n_samples: int, dt: float, ton: float, toff: float, amp: float, hypamp: float
) -> np.ndarray:
    """Synthesise a step current as BluePyEfe's LCCR reader does (spec §7.4).

    ``hypamp`` everywhere and ``hypamp + amp`` on ``[int(ton / dt), int(toff / dt))``;
    ``ton``/``toff`` and ``dt`` in the same time unit.
    """
    current = np.full(n_samples, hypamp, dtype=np.float64)
    current[int(ton / dt) : int(toff / dt)] = hypamp + amp
    return current


def metadata_step(
    config_data: Mapping[str, Any], n_samples: int, dt_ms: float
) -> np.ndarray:
    """Synthesise the step the metadata describes (``ton``, ``toff``, ``amp``).

    For a file without a current channel: :func:`step_current` with the metadata's
    ``ton`` and ``toff`` (ms), ``amp`` (required) and ``hypamp`` (0 when absent or
    None).
    """
    return step_current(
        n_samples,
        dt_ms,
        float(config_data["ton"]),
        float(config_data["toff"]),
        float(config_data["amp"]),
        float(config_data.get("hypamp") or 0.0),
    )


def decode(value: Any) -> str:
    """Return a str for an HDF5/Igor attribute (bytes, 1-element array, str, ...)."""
    if isinstance(value, np.ndarray):
        value = value.reshape(-1)[0] if value.size else ""
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return str(value)
