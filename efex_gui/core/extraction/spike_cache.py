"""Spike counts (efel ``peak_time``) kept in the persistent feature store.

The rheobase needs the spike count of every sweep of the rheobase protocols: one
efel call per sweep, on every run. :func:`spike_counts_cached` wraps the rheobase of a
cell: deferred counts found in the
:class:`~efex_gui.core.extraction.feature_store.FeatureStore` are filled in before
(no efel call, no trace read), the counts computed inside are stored after. The key
is the sweep's persistent key (file identity, metadata, efel inputs, versions) with
the very settings of the count (``strict_stiminterval``, the threshold, the global
efel settings) and a marker that keeps it apart from the feature values
(:mod:`~efex_gui.core.extraction.store_batch`, shared with the cell summary's values).

A count that left a warning on its sweep (spikes missed although the voltage crosses
the threshold) is not stored: it is computed again, so the warning is given again.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any

import numpy as np

from efex_gui.core.extraction.store_batch import marked_key, stored_batch

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

    from efex_gui.core.extraction.feature_store import FeatureStore

__all__ = ["spike_counts_cached"]

_MARKER = "__efex_peak_time__"


def _key(recording: Any) -> str | None:
    settings = getattr(recording, "_spikecount_settings", None)
    if settings is None:
        return None
    return marked_key(recording, settings, _MARKER)


def _encode(peak_time: Any) -> dict[str, Any]:
    if peak_time is None:
        return {"n": -1}
    times = np.asarray(peak_time, dtype=float).ravel()
    return {"n": len(times), **{f"t{i}": float(t) for i, t in enumerate(times)}}


def _decode(values: dict[str, Any] | None) -> Any:
    if values is None:
        raise KeyError("not stored")
    n = values.get("n")
    if n is None or any(f"t{i}" not in values for i in range(int(n))):
        raise KeyError("incomplete")
    if n < 0:
        return None
    return np.array([values[f"t{i}"] for i in range(int(n))], dtype=float)


@contextlib.contextmanager
def spike_counts_cached(
    recordings: Iterable[Any], store: FeatureStore | None
) -> Iterator[None]:
    """Fill deferred spike counts from ``store``; store those computed in the block.

    Parameters
    ----------
    recordings : iterable of Recording
        The sweeps whose counts the block may read (a cell's recordings).
    store : FeatureStore, optional
        The persistent cache; None: the block runs as it is.
    """
    if store is None:
        yield
        return
    pending = [r for r in recordings if getattr(r, "spikecount_pending", False)]
    with stored_batch(store, {id(r): _key(r) for r in pending}) as batch:
        todo = []
        for recording in pending:
            try:
                recording.peak_time = _decode(batch.found(id(recording)))
            except (KeyError, TypeError, ValueError):
                todo.append((recording, len(recording.warnings)))
        try:
            yield
        finally:
            for recording, warnings in todo:
                if (
                    not recording.spikecount_pending
                    and len(recording.warnings) == warnings
                ):
                    batch.put(id(recording), _encode(recording.peak_time))
