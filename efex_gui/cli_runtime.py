"""How ``efex`` runs the pipeline: map functions (processes, dask) and progress bars.

:func:`mapper` yields the ``map_function`` given to the pipeline: the built-in
``map``, a :class:`multiprocessing.pool.Pool`'s ``imap`` (results in order, as they
come, so progress moves cell by cell), or :class:`DaskMap` over a
``dask.distributed`` client. :class:`Progress` is the pipeline's
``progress(done, total)`` callback drawn as a tqdm bar on stderr. The text helpers
format what ``efex rheobase`` and ``efex inspect`` print.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import sys
from typing import TYPE_CHECKING, Any

from efex_gui.core.errors import SettingsError

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator

__all__ = [
    "DaskMap",
    "Progress",
    "describe_file",
    "format_table",
    "mapper",
    "native_output",
    "rheobase_rows",
]


class DaskMap:
    """A ``map_function`` running each call on a ``dask.distributed`` client.

    Parameters
    ----------
    client : dask.distributed.Client
        A connected client.
    """

    def __init__(self, client: Any) -> None:
        self.client = client

    def __call__(
        self, func: Callable[[Any], Any], iterable: Iterable[Any]
    ) -> Iterator[Any]:
        """Submit every item, then yield the results in order."""
        futures = self.client.map(func, list(iterable), pure=False)
        try:
            for future in futures:
                yield future.result()
        finally:
            self.client.cancel(futures)


def local_cluster_size(address: str) -> int | None:
    """Workers of a ``local`` / ``local:N`` address (default 2); None for a real one.

    Raises
    ------
    SettingsError
        When N is not a positive integer.
    """
    name, _, size = address.partition(":")
    if name != "local":
        return None
    if not size:
        return 2
    if not size.isdigit() or int(size) < 1:
        raise SettingsError(
            f"--dask {address!r}: use 'local' or 'local:N' with N >= 1."
        )
    return int(size)


@contextlib.contextmanager
def _dask_client(address: str) -> Iterator[Any]:
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError as exc:  # pragma: no cover - dask is a test dependency
        raise SettingsError(
            "--dask needs dask.distributed (pip install 'dask[distributed]')."
        ) from exc
    n_local = local_cluster_size(address)
    if n_local is not None:
        with (
            LocalCluster(
                n_workers=n_local,
                processes=True,
                threads_per_worker=1,
                dashboard_address=None,
            ) as cluster,
            Client(cluster) as client,
        ):
            yield client
        return
    try:
        client = Client(address, timeout=30)
    except OSError as exc:
        raise SettingsError(
            f"--dask: cannot reach the scheduler at {address!r} ({exc})."
        ) from exc
    with client:
        yield client


@contextlib.contextmanager
def mapper(
    workers: int | None = None, dask: str | None = None
) -> Iterator[Callable[..., Any]]:
    """Yield the map function for ``--workers N`` / ``--dask ADDRESS`` (else ``map``).

    Parameters
    ----------
    workers : int, optional
        Number of worker processes; 1 or None runs in this process.
    dask : str, optional
        A scheduler address (``tcp://host:port``), or ``"local"`` / ``"local:N"``
        for a local cluster of 2 / N worker processes.

    Yields
    ------
    callable
        ``map_function(func, items)``.
    """
    if dask:
        with _dask_client(dask) as client:
            yield DaskMap(client)
    elif workers is not None and workers > 1:
        with multiprocessing.get_context().Pool(workers) as pool:
            yield pool.imap
    else:
        yield map


def _flush() -> None:
    for stream in (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__):
        with contextlib.suppress(AttributeError, OSError, ValueError):
            if stream is not None:
                stream.flush()
    # C's stdio buffers too (efel's messages), or they come out after the redirection
    with contextlib.suppress(Exception):
        import ctypes

        ctypes.CDLL(None).fflush(None)


@contextlib.contextmanager
def native_output(quiet: bool, verbose: bool = False) -> Iterator[None]:
    """Keep stdout for results, and C libraries' noise off the terminal.

    efel and LAPACK print from C (``4 or more spikes are needed...``, ``DLASCL``
    messages, hundreds of lines on a real dataset) straight to file descriptors 1
    and 2. Inside this context both go to ``/dev/null`` unless ``verbose`` (then
    descriptor 1 goes to stderr); Python's own ``sys.stderr`` (progress bar, log
    records, warnings) keeps writing to the real stderr. Worker processes started
    inside inherit the redirection.
    """
    try:
        saved = (os.dup(1), os.dup(2))
    except OSError:  # no standard descriptors (embedded interpreter)
        yield
        return
    silent = quiet or not verbose
    sink = os.open(os.devnull, os.O_WRONLY) if silent else os.dup(2)
    _flush()
    old_stderr = sys.stderr
    stderr = None
    try:
        if silent and not quiet and _is_fd(old_stderr, 2):
            stderr = os.fdopen(os.dup(saved[1]), "w", buffering=1)
            sys.stderr = stderr
        os.dup2(sink, 1)
        if silent:
            os.dup2(sink, 2)
        yield
    finally:
        _flush()
        sys.stderr = old_stderr
        if stderr is not None:
            stderr.close()
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        for fd in (*saved, sink):
            os.close(fd)


def _is_fd(stream: Any, fd: int) -> bool:
    try:
        return bool(stream.fileno() == fd)
    except (AttributeError, OSError, ValueError):
        return False


class Progress:
    """``progress(done, total)`` drawn as a tqdm bar on stderr (nothing when disabled).

    Parameters
    ----------
    description : str
        Label of the bar.
    enabled : bool
        False draws nothing (``--quiet``).
    """

    def __init__(self, description: str, enabled: bool = True) -> None:
        self.description = description
        self.enabled = enabled
        self.bar: Any = None

    def __call__(self, done: int, total: int) -> None:
        """Move the bar to ``done`` out of ``total``."""
        if not self.enabled:
            return
        if self.bar is None:
            from tqdm import tqdm

            self.bar = tqdm(
                total=total,
                desc=self.description,
                file=sys.stderr,
                unit="step",
                leave=False,
                dynamic_ncols=True,
            )
        if self.bar.total != total:
            self.bar.total = total
        self.bar.n = done
        self.bar.refresh()

    def close(self) -> None:
        """Remove the bar."""
        if self.bar is not None:
            self.bar.close()
            self.bar = None

    def __deepcopy__(self, memo: dict[int, Any]) -> Progress:
        # the pipeline may deep-copy its options; a bar on a stream cannot be copied
        return self

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# --- text output ------------------------------------------------------------------


def rheobase_rows(cells: list[Any], protocols: list[str]) -> list[tuple[str, ...]]:
    """Table rows of ``efex rheobase``: cell, rheobase, recordings, spiking ones."""
    rows: list[tuple[str, ...]] = [
        ("cell", "rheobase (nA)", "recordings", "spiking / rheobase protocols")
    ]
    for cell in cells:
        used = [r for r in cell.recordings if r.protocol_name in protocols]
        spiking = sum(1 for r in used if r.spikecount)
        rheobase = "none" if cell.rheobase is None else f"{cell.rheobase:.4f}"
        rows.append(
            (cell.name, rheobase, str(len(cell.recordings)), f"{spiking} / {len(used)}")
        )
    return rows


def format_table(rows: list[tuple[str, ...]]) -> str:
    """Left-aligned columns, two spaces apart."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join(
        "  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip()
        for row in rows
    )


def _sweep_protocols(info: dict[str, Any]) -> dict[str, str]:
    """Sweep name -> protocol, for NWB files (empty for other formats)."""
    if info.get("format") != "nwb":
        return {}
    from efex_gui.core.readers import list_nwb_protocols

    listing = list_nwb_protocols(info["path"])
    return {sweep: name for name, sweeps in listing.items() for sweep in sweeps}


def describe_file(info: dict[str, Any]) -> list[str]:
    """Human-readable lines for one ``inspect_file`` result."""
    rate = info.get("sampling_rate")
    protocols = ", ".join(map(str, info.get("protocols") or [])) or "-"
    lines = [str(info["path"]), f"  format: {info.get('format')}"]
    lines += [f"  {key}: {info[key]}" for key in ("layout", "version") if info.get(key)]
    lines.append(f"  sweeps: {info.get('n_sweeps')}")
    lines.append(f"  sampling rate: {f'{rate:g} Hz' if rate else 'unknown'}")
    lines.append(f"  protocols: {protocols}")
    for channel in info.get("channels", []):
        lines.append(f"  channel {channel.get('name')}: {channel.get('unit')}")
    protocol_of = _sweep_protocols(info)
    for sweep in info.get("sweeps", []):
        extra = [f"{k}={sweep[k]}" for k in ("unit", "type") if sweep.get(k)]
        if sweep["id"] in protocol_of:
            extra.insert(0, f"protocol={protocol_of[sweep['id']]}")
        samples = f"{sweep.get('n_samples')} samples"
        lines.append(f"    {sweep['id']}: {samples} {' '.join(extra)}".rstrip())
    return lines
