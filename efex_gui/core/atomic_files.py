"""The one atomic file writer: temporary file, flush, fsync, ``os.replace``.

A crash or an error mid-write (serialising, a full disk, the rename) leaves the previous
file whole and no temporary file behind. Every file efex_gui writes for the user goes
through :func:`write_atomic`: the three JSON outputs and the provenance sidecar, the
pickles, session files, target lists and the autosave note. The file gets the
permissions an ordinary ``open()`` would give it (``0666 & ~umask``), not
``mkstemp``'s 0600.
"""

from __future__ import annotations

import os
import tempfile
import threading
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = ["atomic_write_text", "current_umask", "write_atomic"]

_UMASK_LOCK = threading.Lock()


def current_umask() -> int:
    """Return the process umask (read by setting it and putting it back, locked)."""
    with _UMASK_LOCK:
        mask = os.umask(0o022)
        os.umask(mask)
    return mask


def write_atomic(
    path: str | Path,
    write: Callable[[IO[Any]], object],
    *,
    binary: bool = False,
    make_parents: bool = False,
) -> Path:
    """Write a file atomically.

    ``write(handle)`` fills a temporary file that replaces ``path`` once it is
    complete and on disk.

    Parameters
    ----------
    path : str or Path
        The destination.
    write : callable
        Called with the open temporary file (text, UTF-8, or binary).
    binary : bool
        Open the temporary file in binary mode (pickles).
    make_parents : bool
        Create the destination's folder if needed (else it must exist).

    Returns
    -------
    Path
        ``path``.
    """
    path = Path(path)
    if make_parents:
        path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        mode, encoding = ("wb", None) if binary else ("w", "utf-8")
        with os.fdopen(fd, mode, encoding=encoding) as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        # mkstemp made it 0600: give it what open() would have (0666 & ~umask)
        os.chmod(tmp, 0o666 & ~current_umask())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def atomic_write_text(path: str | Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically, creating its folder if needed."""
    write_atomic(path, lambda handle: handle.write(text), make_parents=True)
