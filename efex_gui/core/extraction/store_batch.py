"""Other per-sweep results kept in the persistent feature store, a batch at a time.

Besides the extraction's feature values (:class:`~efex_gui.core.extraction.
feature_cache.FeatureCache`), two per-sweep results computed with efel are kept in
the same :class:`~efex_gui.core.extraction.feature_store.FeatureStore`, so that a
reopened session or a second window never computes them again: the browser's spike
counts (:mod:`~efex_gui.core.extraction.spike_cache`) and the cell summary's sweep
values (:mod:`efex_gui.core.analysis.sweep_values`). Each kind adds its own marker to
the settings of the sweep's persistent key (:func:`marked_key`): a changed file,
metadata value, setting or version misses as for the feature values, and one kind
never reads another's values for the same sweep.

:func:`stored_batch` serves many sweeps at once: their keys are looked up in one read
before, the values computed meanwhile are written in one transaction after (also when
the work in between raised, e.g. was cancelled).
"""

from __future__ import annotations

import contextlib
from collections.abc import Hashable
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from efex_gui.core.extraction.feature_store import sweep_key

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping

    from efex_gui.core.extraction.feature_store import FeatureStore

__all__ = ["StoredBatch", "marked_key", "stored_batch"]

#: what a batch's values belong to (e.g. ``id(recording)``)
Item = TypeVar("Item", bound=Hashable)


def marked_key(
    recording: Any, settings: Mapping[str, Any] | None, marker: str
) -> str | None:
    """Return the persistent key of ``recording`` for the results named ``marker``.

    Parameters
    ----------
    recording : Recording
        A recording built by the core from a file (see
        :func:`~efex_gui.core.extraction.feature_store.sweep_key`).
    settings : mapping, optional
        The efel settings the results are computed with.
    marker : str
        Names the kind of result (never an efel setting).

    Returns
    -------
    str or None
        None when the recording cannot be keyed safely.
    """
    return sweep_key(recording, {**(settings or {}), marker: 1})


class StoredBatch(Generic[Item]):
    """The stored values of many items, and the values computed for them since.

    Parameters
    ----------
    store : FeatureStore, optional
        The persistent cache; None: nothing is found and nothing written.
    keys : mapping
        ``{item: persistent key or None}``; an item without a key is never looked
        up nor stored.
    """

    def __init__(
        self, store: FeatureStore | None, keys: Mapping[Item, str | None]
    ) -> None:
        self.store = store
        self.keys = {item: key for item, key in keys.items() if key is not None}
        self._found = {} if store is None else store.get_many(self.keys.values())
        self._computed: dict[str, dict[str, Any]] = {}

    def found(self, item: Item) -> dict[str, Any] | None:
        """Return the values stored for ``item`` (None: not stored, or no key)."""
        key = self.keys.get(item)
        return None if key is None else self._found.get(key)

    def put(self, item: Item, values: Mapping[str, Any]) -> None:
        """Keep ``values`` of ``item`` for :meth:`save` (no key: dropped)."""
        key = self.keys.get(item)
        if key is not None:
            self._computed[key] = dict(values)

    def save(self) -> None:
        """Write the values put since the last save, in one transaction."""
        if self.store is not None and self._computed:
            self.store.put_many(self._computed)
        self._computed = {}


@contextlib.contextmanager
def stored_batch(
    store: FeatureStore | None, keys: Mapping[Item, str | None]
) -> Iterator[StoredBatch[Item]]:
    """Look ``keys`` up in ``store``; save what the block put, however it ends.

    Parameters
    ----------
    store : FeatureStore, optional
        The persistent cache (None: a batch that finds and stores nothing).
    keys : mapping
        ``{item: persistent key or None}`` (see :class:`StoredBatch`).

    Yields
    ------
    StoredBatch
    """
    batch = StoredBatch(store, keys)
    try:
        yield batch
    finally:
        batch.save()
