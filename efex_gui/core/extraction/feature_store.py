"""The persistent feature cache: per-sweep efel values kept on disk between runs.

A second ``efex extract`` of the same data, a reopened GUI session or a second GUI
instance on the same files should never call efel for a value it already computed.
:class:`FeatureStore` keeps ``{efel feature: per-sweep value}`` dicts on disk under a
key (:func:`sweep_key`) made of

* the identity of every file of the sweep: absolute path, size, modification time and
  a content hash (blake2b of the bytes);
* every metadata value of the sweep's files_metadata entry (the whole entry, paths
  made absolute), the trace's position in the file, its id and repetition, the
  protocol name and the eCode class;
* what the eCode made of them and efel receives: stimulus window, amplitudes,
  automatic threshold, pulse windows, sampling step;
* the merged efel settings of the call;
* the efel version and the efex version (``__version__`` plus a digest of the
  ``efex_gui.core`` sources, so a changed reader or eCode never reuses old values).

A changed file, metadata value, setting or version therefore gives another key: the
old entry is never used again and ages out.

**Storage: one SQLite database in WAL mode.** Why not a file per sweep with atomic
renames? A run writes thousands of small values; SQLite commits a whole cell in one
transaction, serialises two writers with its file lock (``busy_timeout``: the second
waits instead of failing), lets readers read while a writer writes (WAL), and keeps
the bookkeeping needed for a bounded size (bytes per entry, last use) in the same
transaction as the data, so two processes can never disagree about it. A value is
merged into what another process wrote under the same key inside one
``BEGIN IMMEDIATE`` transaction. WAL needs the processes on one host: on a cache
folder shared by several machines (NFS home on a cluster) point ``EFEX_CACHE_DIR`` at
node-local disk, or run with ``--no-cache``.

**Never trusted blindly.** Each value carries a checksum of its bytes; a value whose
checksum or JSON does not match is deleted and recomputed. A database SQLite cannot
read is moved aside (``*.corrupt-<time>``) and a fresh one started. A read-only
folder, a full disk or any other failure disables the cache for the rest of the run
with one warning; the extraction goes on without it.

**Bounded.** The total size of the values is capped (``max_bytes``; default
:data:`DEFAULT_MAX_MB` MB, ``EFEX_CACHE_MAX_MB`` overrides); when a write goes over the
cap, the least recently used entries are deleted down to 80 % of it.

Where: ``EFEX_CACHE_DIR`` if set, else the user cache folder of ``platformdirs``
(``$XDG_CACHE_HOME/efex_gui`` or ``~/.cache/efex_gui`` on Linux).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import sqlite3
import sys
import time
from collections.abc import Iterable, Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from efex_gui.core.features import efel_version
from efex_gui.core.importing.file_names import PATH_KEYS as _PATH_KEYS

logger = logging.getLogger(__name__)

__all__ = [
    "DEFAULT_MAX_MB",
    "FeatureStore",
    "default_cache_dir",
    "efex_version",
    "file_identity",
    "open_default_store",
    "sweep_key",
]

#: default cap on the cached values, in MB
DEFAULT_MAX_MB = 1024
#: changes when the key or the stored format changes
SCHEMA = 1
DB_NAME = f"features-v{SCHEMA}.sqlite"
#: what the eCode derived from the metadata and efel receives (scalars or short lists)
_INPUT_ATTRIBUTES = (
    "ton",
    "toff",
    "tmid",
    "tmid2",
    "tend",
    "amp",
    "amp2",
    "hypamp",
    "auto_threshold",
    "multi_stim_start",
    "multi_stim_end",
    "dt",
)


def default_cache_dir() -> Path:
    """``$EFEX_CACHE_DIR``, else the user cache folder (``platformdirs``)."""
    override = os.environ.get("EFEX_CACHE_DIR")
    if override:
        return Path(override).expanduser()
    import platformdirs

    return Path(platformdirs.user_cache_dir("efex_gui", appauthor=False))


def _max_bytes_from_env() -> int:
    try:
        return int(float(os.environ.get("EFEX_CACHE_MAX_MB", DEFAULT_MAX_MB)) * 1e6)
    except ValueError:
        return DEFAULT_MAX_MB * 1_000_000


@lru_cache(maxsize=1)
def efex_version() -> str:
    """``efex_gui.__version__`` plus a digest of the ``efex_gui.core`` sources."""
    import efex_gui

    digest = hashlib.blake2b(digest_size=8)
    core = Path(__file__).resolve().parent
    for path in sorted(core.rglob("*.py")):
        digest.update(path.relative_to(core).as_posix().encode())
        digest.update(path.read_bytes())
    return f"{efex_gui.__version__}+{digest.hexdigest()}"


_file_hashes: dict[tuple[str, int, int, int], str] = {}


def file_identity(path: str | os.PathLike[str]) -> tuple[str, int, int, str] | None:
    """``(absolute path, size, mtime in ns, content hash)``, None if not a file.

    The hash of the bytes is memoised per process on (path, size, mtime, ctime).
    """
    absolute = os.path.abspath(os.fspath(path))
    try:
        stat = os.stat(absolute)
    except OSError:
        return None
    if not os.path.isfile(absolute):
        return None
    memo = (absolute, stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns)
    content = _file_hashes.get(memo)
    if content is None:
        digest = hashlib.blake2b(digest_size=16)
        try:
            with open(absolute, "rb") as stream:
                while chunk := stream.read(1 << 20):
                    digest.update(chunk)
        except OSError:
            return None
        content = _file_hashes[memo] = digest.hexdigest()
    return absolute, stat.st_size, stat.st_mtime_ns, content


def json_default(value: Any) -> Any:
    """Encode what JSON cannot: NumPy scalars and arrays as Python values, else repr."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    return repr(value)


def _config_for_key(config: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(config)
    for key in _PATH_KEYS:
        if out.get(key):
            out[key] = os.path.abspath(os.fspath(out[key]))
    return out


def sweep_key(recording: Any, settings: Mapping[str, Any] | None) -> str | None:
    """Return the persistent key of one recording computed with ``settings``.

    Parameters
    ----------
    recording : Recording
        A recording built by the core (it knows its files, metadata and trace
        position); its traces are not needed.
    settings : mapping, optional
        The merged efel settings of the call.

    Returns
    -------
    str or None
        A hex digest (see the module docstring); None when the recording cannot be
        keyed safely (no file on disk, or not built from a file by the core).
    """
    index = getattr(recording, "source_index", None)
    files = list(getattr(recording, "files", None) or [])
    config = getattr(recording, "config_data", None)
    if index is None or not files or not isinstance(config, Mapping):
        return None
    identities = [file_identity(f) for f in files]
    if any(identity is None for identity in identities):
        return None
    document = {
        "schema": SCHEMA,
        "efel": efel_version(),
        "efex": efex_version(),
        "files": identities,
        "config": _config_for_key(config),
        "index": index,
        "id": repr(getattr(recording, "id", None)),
        "repetition": repr(getattr(recording, "repetition", None)),
        "protocol": str(getattr(recording, "protocol_name", "")),
        "ecode": f"{type(recording).__module__}.{type(recording).__qualname__}",
        "inputs": {a: getattr(recording, a, None) for a in _INPUT_ATTRIBUTES},
        "settings": dict(settings or {}),
    }
    text = json.dumps(document, sort_keys=True, default=json_default)
    return hashlib.blake2b(text.encode(), digest_size=20).hexdigest()


def _encode(values: Mapping[str, Any]) -> bytes:
    return json.dumps(
        {k: _number(v) for k, v in values.items()}, sort_keys=True
    ).encode()


def _number(value: Any) -> Any:
    if value is None:
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return json_default(value)


def _checksum(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=8).hexdigest()


class FeatureStore:
    """Per-sweep efel values in an SQLite database (see the module docstring).

    Parameters
    ----------
    directory : path-like
        The cache folder (created if missing).
    max_bytes : int, optional
        Cap on the stored values (default: ``EFEX_CACHE_MAX_MB`` or
        :data:`DEFAULT_MAX_MB` MB).
    timeout_s : float
        How long a writer waits for another process's transaction.

    Notes
    -----
    Picklable (process pools, dask): the connection is opened lazily in each process.
    Every failure disables the store (``enabled`` becomes False) with one warning.
    """

    def __init__(
        self,
        directory: str | os.PathLike[str],
        max_bytes: int | None = None,
        timeout_s: float = 30.0,
    ) -> None:
        self.directory = Path(directory)
        self.path = self.directory / DB_NAME
        self.max_bytes = _max_bytes_from_env() if max_bytes is None else max_bytes
        self.timeout_s = timeout_s
        self.enabled = True
        self._conn: sqlite3.Connection | None = None
        self._pid: int | None = None

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_conn"] = None
        state["_pid"] = None
        return state

    def __repr__(self) -> str:
        return f"FeatureStore({str(self.path)!r}, enabled={self.enabled})"

    # --- connection ---------------------------------------------------------------
    def _connection(self) -> sqlite3.Connection | None:
        if not self.enabled:
            return None
        if self._conn is not None and self._pid == os.getpid():
            return self._conn
        try:
            self._conn = self._open()
        except sqlite3.DatabaseError as exc:
            if not _is_corruption(exc):
                self._disable(exc)
                return None
            self._move_aside(exc)
            try:
                self._conn = self._open()
            except (sqlite3.Error, OSError) as again:
                self._disable(again)
                return None
        except OSError as exc:
            self._disable(exc)
            return None
        self._pid = os.getpid()
        return self._conn

    def _open(self) -> sqlite3.Connection:
        self.directory.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(
            self.path,
            timeout=self.timeout_s,
            isolation_level=None,
            check_same_thread=False,
        )
        try:
            conn.execute("PRAGMA auto_vacuum=INCREMENTAL")
            if conn.execute("PRAGMA journal_mode=WAL").fetchone()[0] != "wal":
                raise sqlite3.OperationalError("cannot use write-ahead logging here")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute(
                "CREATE TABLE IF NOT EXISTS sweeps (key TEXT PRIMARY KEY, "
                "data BLOB NOT NULL, checksum TEXT NOT NULL, nbytes INTEGER NOT NULL, "
                "used REAL NOT NULL) WITHOUT ROWID"
            )
            conn.execute("CREATE INDEX IF NOT EXISTS sweeps_used ON sweeps (used)")
            conn.execute(
                "CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value)"
            )
            conn.execute("INSERT OR IGNORE INTO meta VALUES ('total_bytes', 0)")
        except BaseException:
            conn.close()
            raise
        return conn

    def _move_aside(self, exc: BaseException) -> None:
        stamp = time.strftime("%Y%m%d-%H%M%S")
        logger.warning(
            "The feature cache %s is damaged (%s): moved aside, starting a new one.",
            self.path,
            exc,
        )
        for suffix in ("", "-wal", "-shm"):
            source = Path(f"{self.path}{suffix}")
            with contextlib.suppress(OSError):
                source.rename(f"{self.path}.corrupt-{stamp}{suffix}")

    def _disable(self, exc: BaseException) -> None:
        if self.enabled:
            logger.warning(
                "The feature cache in %s is disabled for this run (%s): values are "
                "computed without it. Set EFEX_CACHE_DIR to a writable folder or "
                "use --no-cache.",
                self.directory,
                exc,
            )
        self.enabled = False
        self.close()

    def close(self) -> None:
        """Close this process's connection (reopened on the next use)."""
        if self._conn is not None and self._pid == os.getpid():
            with contextlib.suppress(sqlite3.Error):
                self._conn.close()
        self._conn = None

    def check(self) -> bool:
        """Open the database and write to it once; False (and disabled) on failure."""
        conn = self._connection()
        if conn is None:
            return False
        try:
            with _transaction(conn):
                conn.execute(
                    "INSERT OR REPLACE INTO meta VALUES ('opened', ?)", (time.time(),)
                )
        except sqlite3.Error as exc:
            self._fail(exc)
        return self.enabled

    def _fail(self, exc: sqlite3.Error) -> None:
        """Handle a failed write or read: busy is skipped, damage or I/O disables."""
        if isinstance(exc, sqlite3.OperationalError) and "locked" in str(exc):
            logger.debug("feature cache busy, value not written: %s", exc)
            return
        self._disable(exc)

    # --- values -------------------------------------------------------------------
    def get_many(self, keys: Iterable[str]) -> dict[str, dict[str, Any]]:
        """Return the stored values of those keys that have valid entries.

        Entries that fail their checksum are deleted (and so recomputed).
        """
        wanted = list(dict.fromkeys(keys))
        conn = self._connection()
        if conn is None or not wanted:
            return {}
        found: dict[str, dict[str, Any]] = {}
        damaged: list[str] = []
        try:
            for start in range(0, len(wanted), 500):
                chunk = wanted[start : start + 500]
                marks = ",".join("?" * len(chunk))
                rows = conn.execute(
                    f"SELECT key, data, checksum FROM sweeps WHERE key IN ({marks})",
                    chunk,
                ).fetchall()
                for key, data, checksum in rows:
                    values = _decode(data, checksum)
                    if values is None:
                        damaged.append(key)
                    else:
                        found[key] = values
            if found or damaged:
                self._touch(conn, list(found), damaged)
        except sqlite3.Error as exc:
            self._fail(exc)
            return {}
        return found

    def _touch(
        self, conn: sqlite3.Connection, used: list[str], damaged: list[str]
    ) -> None:
        now = time.time()
        with _transaction(conn):
            conn.executemany(
                "UPDATE sweeps SET used = ? WHERE key = ?", [(now, k) for k in used]
            )
            for key in damaged:
                logger.info("feature cache: damaged entry %s recomputed", key)
                self._delete(conn, key)

    @staticmethod
    def _delete(conn: sqlite3.Connection, key: str) -> None:
        row = conn.execute("SELECT nbytes FROM sweeps WHERE key = ?", (key,)).fetchone()
        if row is not None:
            conn.execute("DELETE FROM sweeps WHERE key = ?", (key,))
            conn.execute(
                "UPDATE meta SET value = value - ? WHERE name = 'total_bytes'",
                (row[0],),
            )

    def put_many(self, items: Mapping[str, Mapping[str, Any]]) -> None:
        """Store values, merged with what is already stored under the same keys."""
        conn = self._connection()
        if conn is None or not items:
            return
        now = time.time()
        try:
            with _transaction(conn):
                added = 0
                for key, values in items.items():
                    row = conn.execute(
                        "SELECT data, checksum, nbytes FROM sweeps WHERE key = ?",
                        (key,),
                    ).fetchone()
                    merged = dict(values)
                    if row is not None:
                        merged = {**(_decode(row[0], row[1]) or {}), **merged}
                        added -= row[2]
                    data = _encode(merged)
                    added += len(data)
                    conn.execute(
                        "INSERT OR REPLACE INTO sweeps VALUES (?, ?, ?, ?, ?)",
                        (key, data, _checksum(data), len(data), now),
                    )
                conn.execute(
                    "UPDATE meta SET value = value + ? WHERE name = 'total_bytes'",
                    (added,),
                )
                self._evict(conn)
        except sqlite3.Error as exc:
            self._fail(exc)

    def _evict(self, conn: sqlite3.Connection) -> None:
        total = self.total_bytes(conn)
        if total <= self.max_bytes:
            return
        goal = int(0.8 * self.max_bytes)
        freed = 0
        doomed = []
        for key, nbytes in conn.execute("SELECT key, nbytes FROM sweeps ORDER BY used"):
            if total - freed <= goal:
                break
            doomed.append((key,))
            freed += nbytes
        conn.executemany("DELETE FROM sweeps WHERE key = ?", doomed)
        conn.execute(
            "UPDATE meta SET value = value - ? WHERE name = 'total_bytes'", (freed,)
        )
        conn.execute("PRAGMA incremental_vacuum")
        logger.info(
            "feature cache: %d least recently used entries evicted", len(doomed)
        )

    def total_bytes(self, conn: sqlite3.Connection | None = None) -> int:
        """Bytes of values stored (0 when disabled)."""
        conn = conn or self._connection()
        if conn is None:
            return 0
        row = conn.execute("SELECT value FROM meta WHERE name = 'total_bytes'")
        return int(row.fetchone()[0])

    def __len__(self) -> int:
        conn = self._connection()
        if conn is None:
            return 0
        return int(conn.execute("SELECT COUNT(*) FROM sweeps").fetchone()[0])


def _decode(data: bytes, checksum: str) -> dict[str, Any] | None:
    if not isinstance(data, bytes) or _checksum(data) != checksum:
        return None
    try:
        values = json.loads(data)
    except ValueError:
        return None
    if not isinstance(values, dict):
        return None
    # one string per feature name, not one per sweep decoded (a session's memory
    # keeps the values of 25 000 sweeps: 0.5 kB a sweep of names)
    return {sys.intern(name): value for name, value in values.items()}


@contextlib.contextmanager
def _transaction(conn: sqlite3.Connection) -> Any:
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def _is_corruption(exc: sqlite3.DatabaseError) -> bool:
    text = str(exc).lower()
    return "not a database" in text or "malformed" in text or "corrupt" in text


def open_default_store(enabled: bool = True) -> FeatureStore | None:
    """Open the user's store (``default_cache_dir``), checked writable; or None.

    Parameters
    ----------
    enabled : bool
        False (``--no-cache``) returns None without touching the disk.
    """
    if not enabled or os.environ.get("EFEX_NO_CACHE"):
        return None
    store = FeatureStore(default_cache_dir())
    return store if store.check() else None
