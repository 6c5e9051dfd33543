"""The last extraction result of a session, kept beside the session file.

Saving a session also writes ``<session stem>.efex-results`` next to it: the
:class:`~efex_gui.core.extraction.result.ExtractionResult` of the last run, the
digest of the inputs it was computed from (:func:`inputs_signature`) and the size
and modification time of every file it read. Reopening the session shows these
results at once, instead of a silent re-extraction; they are marked stale when the
session's inputs or any file changed since.

The file is a pickle (the result holds the cells and recordings the feature plot and
the rheobase review draw). It is read with an unpickler that only builds efex_gui's
own classes, numpy arrays and plain Python values, so a results file from elsewhere
cannot run code. Qt-free.
"""

from __future__ import annotations

import contextlib
import copyreg
import dataclasses
import gc
import io
import logging
import os
import pickle
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from efex_gui.core.atomic_files import write_atomic
from efex_gui.core.extraction.result import ExtractionResult
from efex_gui.core.importing.file_names import PATH_KEYS
from efex_gui.core.recordings.compact import (
    SharedValues,
    compact_features,
    compact_for_browsing,
)
from efex_gui.core.recordings.recording import Recording
from efex_gui.core.recordings.traces import can_reload

if TYPE_CHECKING:
    from efex_gui.core.session.document import Session

logger = logging.getLogger(__name__)

KIND = "efex-results"
FORMAT_VERSION = 1
SUFFIX = ".efex-results"
#: plain builtins a results file may name
ALLOWED_BUILTINS = frozenset(
    {"dict", "list", "tuple", "set", "frozenset", "str", "bytes", "bytearray",
     "int", "float", "complex", "bool", "slice", "range", "object"}
)  # fmt: skip
#: the numpy globals that rebuild arrays, dtypes and scalars
NUMPY_GLOBALS = frozenset(
    (module, name)
    for module in ("numpy", "numpy.core.multiarray", "numpy._core.multiarray")
    for name in ("_reconstruct", "scalar", "ndarray", "dtype")
) | {("numpy._core.numeric", "_frombuffer"), ("numpy.core.numeric", "_frombuffer")}


@dataclass
class StoredResult:
    """A result read back from beside its session.

    Attributes
    ----------
    result : ExtractionResult
        The result of the last run saved with the session.
    changed_files : list of str
        Files whose size or modification time differ from those of the run (the
        result is stale if any); empty when not checked (see :func:`load_result`).
    stamps : dict
        The file stamps recorded with the result (for :func:`changed_files`).
    """

    result: ExtractionResult
    changed_files: list[str]
    #: size and modification time of each file when the result was computed
    stamps: dict[str, tuple[int, int] | None] = dataclasses.field(default_factory=dict)


def results_path(session_path: str | Path) -> Path:
    """``<folder>/<stem>.efex-results`` for the session file ``session_path``."""
    path = Path(session_path)
    return path.with_name(path.stem + SUFFIX)


def session_files(session: Session) -> list[str]:
    """Absolute paths of every file the session's ``files_metadata`` names."""
    files: dict[str, None] = {}
    seen: set[str] = set()
    for protocols in session.files_metadata.values():
        for entries in protocols.values():
            for entry in entries:
                for key in PATH_KEYS:
                    value = entry.get(key)
                    if value and str(value) not in seen:  # resolved once each
                        seen.add(str(value))
                        files[session.resolve(str(value))] = None
    return list(files)


def file_stamps(paths: Iterable[str]) -> dict[str, tuple[int, int] | None]:
    """Size and modification time (ns) per file (None when it cannot be read)."""
    stamps: dict[str, tuple[int, int] | None] = {}
    for path in paths:
        try:
            stat = os.stat(path)
            stamps[path] = (stat.st_size, stat.st_mtime_ns)
        except OSError:
            stamps[path] = None
    return stamps


def changed_files(stamps: Mapping[str, tuple[int, int] | None]) -> list[str]:
    """Return the files whose size or modification time differ from ``stamps``.

    One ``stat`` per file (thousands on a large session): the GUI calls it on a
    worker thread, after the result is shown.
    """
    now = file_stamps(stamps)
    return [f for f, stamp in stamps.items() if now.get(f) != stamp]


def _recordings(result: ExtractionResult) -> list[Any]:
    return [r for cell in result.cells for r in getattr(cell, "recordings", [])]


#: what a saved recording leaves out when its file can be read again
TRACE_ATTRIBUTES = ("t", "voltage", "current")


def _plain_floats(value: Any) -> Any:
    """``value`` with numpy float64 scalars (its own or a dict's) as Python floats.

    The same doubles (``numpy.float64`` is a ``float``), but a Python float is read
    back without a numpy call: a 44-cell result holds ~150 000 of them.
    """
    if type(value) is np.float64:
        return float(value)
    if type(value) is dict:
        return {k: float(v) if type(v) is np.float64 else v for k, v in value.items()}
    return value


class _ResultPickler(pickle.Pickler):
    """Pickles recordings without ``reader_data``, and without traces it can re-read.

    The objects themselves are never modified: a run or a job on another thread may
    be using their traces while the session is saved.
    """

    def reducer_override(self, obj: Any) -> Any:
        if type(obj) is np.float64:  # in lists (a target's values): float(x)
            return float, (float(obj),)
        if not isinstance(obj, Recording):
            return NotImplemented
        left_out = {"reader_data"}
        if can_reload(obj):
            left_out.update(TRACE_ATTRIBUTES)
        state = {
            k: None if k in left_out else _plain_floats(v)
            for k, v in obj.__getstate__().items()
        }
        # NEWOBJ + state, as pickle does for any object (typeshed lacks __newobj__)
        return copyreg.__newobj__, (type(obj),), state  # type: ignore[attr-defined]


def save_result(result: ExtractionResult, session: Session, path: str | Path) -> Path:
    """Write ``result`` of ``session`` to ``path`` atomically; returns ``path``.

    The recordings keep their numbers (amplitudes, windows, spike times, features);
    their traces are left out when the file can be read again
    (:mod:`~efex_gui.core.recordings.traces` reads them on demand), and so are the
    traces as the reader returned them (``reader_data``, a second copy). The size of
    the file therefore grows with the number of sweeps, not with their length.
    """
    recordings = _recordings(result)
    refs = {i: result.refs[r] for i, r in enumerate(recordings) if r in result.refs}
    document = {
        "kind": KIND,
        "format_version": FORMAT_VERSION,
        "signature": result.signature,
        "files": file_stamps(session_files(session)),
        "refs": refs,  # by position: ``result.refs`` is keyed by the recordings
        "result": dataclasses.replace(result, refs={}),
    }
    buffer = io.BytesIO()
    _ResultPickler(buffer, protocol=5).dump(document)
    data = buffer.getvalue()
    write_atomic(
        path, lambda handle: handle.write(data), binary=True, make_parents=True
    )
    return Path(path)


def load_result(path: str | Path, *, check_files: bool = True) -> StoredResult | None:
    """Read a results file (None, with a log line, if absent, foreign or damaged).

    ``check_files=False`` leaves ``changed_files`` empty: the caller checks the
    returned ``stamps`` later (:func:`changed_files`).
    """
    path = Path(path)
    if not path.exists():
        return None
    with _collection_paused():
        stored = _read_result(path)
    if stored is not None and check_files:
        stored.changed_files = changed_files(stored.stamps)
    return stored


def _read_result(path: Path) -> StoredResult | None:
    try:
        document = _SafeUnpickler(io.BytesIO(path.read_bytes())).load()
    except Exception as exc:
        logger.warning("Ignoring the saved results %s: %s", path, exc)
        return None
    if (
        not isinstance(document, Mapping)
        or document.get("kind") != KIND
        or document.get("format_version") != FORMAT_VERSION
        or not isinstance(document.get("result"), ExtractionResult)
    ):
        logger.warning("Ignoring the saved results %s: not an efex results file", path)
        return None
    result = document["result"]
    shared = SharedValues()
    for cell in result.cells:  # as a run leaves them: read from now on
        compact_for_browsing(cell.recordings)
        compact_features(cell.recordings)
        shared.share_recordings(cell.recordings)
    recordings = _recordings(result)
    refs = document.get("refs") or {}
    result.refs = {recordings[i]: ref for i, ref in refs.items()}
    return StoredResult(result, [], document.get("files") or {})


@contextlib.contextmanager
def _collection_paused() -> Iterator[None]:
    """No cyclic garbage collection while a result is rebuilt.

    Unpickling makes ~100 000 containers (7 000 recordings on 44 cells), each of
    which counts towards the next collection: the collector would walk the growing
    result again and again (0.8 s of a 1.0 s read). Nothing made here is garbage.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


class _SafeUnpickler(pickle.Unpickler):
    """Builds only efex_gui's classes, numpy arrays and plain values."""

    def find_class(self, module: str, name: str) -> Any:
        if module == "builtins" and name in ALLOWED_BUILTINS:
            return super().find_class(module, name)
        if (module, name) in NUMPY_GLOBALS or module == "numpy.dtypes":
            return super().find_class(module, name)
        if module.split(".")[0] in ("efex_gui", "collections"):
            found = super().find_class(module, name)
            if isinstance(found, type):  # classes only: no function is called
                return found
        raise pickle.UnpicklingError(f"{module}.{name} is not allowed in results")
