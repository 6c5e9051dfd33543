"""Per-sweep efel values, cached so that regrouping never recomputes them.

In the GUI the user excludes sweeps, moves a target amplitude or adds a feature, and
expects the results to follow at once. Only the efel calls are slow; matching and
averaging are not. :class:`FeatureCache` keeps every per-sweep value the pipeline
computed, keyed by

``(sweep identity, protocol, efel settings)`` → ``{efel feature: value}``

where the *sweep identity* is a digest of exactly what efel receives for the sweep
(time, voltage and current arrays, stimulus window, ``stimulus_current``, automatic
threshold, pulse windows) plus its file names, trace id and eCode. Two sweeps with the
same identity therefore get the same efel output, whatever metadata edit or re-read
produced them; a changed file or a changed ``ljp`` gives a new identity. Values are
stored per feature, so adding a feature to a target list computes only that feature,
and the feature set of one efel call is whatever is missing.

:func:`extract_efeatures_cached` is the cached form of the pipeline stage
``extract_efeatures_at_targets`` (spec §2.3): same grouping of the targets by
(efel settings, protocol) in first-seen order, same merged settings
``{**global, **target}``, same per-recording values, written to
``recording.efeatures`` in the same order (so the §2.3 overwrite hazard behaves the
same). It checks a cancel token and reports progress between sweeps.

Qt-free; used by the GUI's extraction worker.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import weakref
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from efex_gui.core.progress import check_cancel

__all__ = [
    "CacheStats",
    "FeatureCache",
    "extract_efeatures_cached",
    "settings_key",
    "share_identity",
    "sweep_identity",
    "target_groups",
]

_IDENTITY_ATTRIBUTES = ("ton", "toff", "amp", "auto_threshold")
_ARRAY_ATTRIBUTES = ("t", "voltage", "current", "multi_stim_start", "multi_stim_end")

_identities: weakref.WeakKeyDictionary[Any, str] = weakref.WeakKeyDictionary()


def _update_array(digest: Any, value: Any) -> None:
    if value is None:
        digest.update(b"<none>")
        return
    array = np.ascontiguousarray(np.asarray(value, dtype=float))
    digest.update(str(array.shape).encode())
    digest.update(array.tobytes())


def sweep_identity(recording: Any) -> str:
    """Return a digest of everything efel receives for one recording.

    Parameters
    ----------
    recording : Recording
        A recording with its traces (``t``, ``voltage``, ``current``).

    Returns
    -------
    str
        A hex digest; memoised per recording object.
    """
    try:
        return _identities[recording]
    except (KeyError, TypeError):
        pass
    digest = hashlib.blake2b(digest_size=20)
    header = {
        "class": type(recording).__name__,
        "files": [str(f) for f in getattr(recording, "files", [])],
        "id": str(getattr(recording, "id", None)),
        "repetition": str(getattr(recording, "repetition", None)),
        **{name: repr(getattr(recording, name, None)) for name in _IDENTITY_ATTRIBUTES},
    }
    digest.update(json.dumps(header, sort_keys=True).encode())
    for name in _ARRAY_ATTRIBUTES:
        _update_array(digest, getattr(recording, name, None))
    identity = digest.hexdigest()
    with contextlib.suppress(TypeError):  # not weak-referenceable: no memo
        _identities[recording] = identity
    return identity


def share_identity(source: Any, copy: Any) -> None:
    """Let ``copy`` (a shallow copy of ``source``) reuse its memoised identity."""
    identity = _identities.get(source)
    if identity is not None:
        with contextlib.suppress(TypeError):
            _identities[copy] = identity


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    return repr(value)


def settings_key(settings: Mapping[str, Any] | None) -> str:
    """A canonical string for a dict of efel settings (key order ignored)."""
    return json.dumps(dict(settings or {}), sort_keys=True, default=_plain)


@dataclass
class CacheStats:
    """Counts of one cached extraction: values served from the cache or computed."""

    hits: int = 0
    computed: int = 0
    efel_calls: int = 0

    def add(self, other: CacheStats) -> None:
        """Accumulate ``other`` into this object."""
        self.hits += other.hits
        self.computed += other.computed
        self.efel_calls += other.efel_calls


class FeatureCache:
    """Per-sweep efel values keyed by (sweep identity, protocol, efel settings).

    Parameters
    ----------
    max_sweeps : int
        Bound on the number of (sweep, protocol, settings) entries kept; the oldest
        are forgotten first.
    """

    def __init__(self, max_sweeps: int = 200_000) -> None:
        self.max_sweeps = max_sweeps
        self._values: dict[tuple[str, str, str], dict[str, float]] = {}

    def __len__(self) -> int:
        return len(self._values)

    def clear(self) -> None:
        """Forget every value."""
        self._values.clear()

    def key(
        self, recording: Any, settings: Mapping[str, Any] | None
    ) -> tuple[str, str, str]:
        """The cache key of a recording computed with ``settings``."""
        return (
            sweep_identity(recording),
            str(recording.protocol_name),
            settings_key(settings),
        )

    def cached(
        self, recording: Any, features: Iterable[str], settings: Mapping[str, Any]
    ) -> dict[str, float]:
        """The values of ``features`` already known for this recording and settings."""
        known = self._values.get(self.key(recording, settings), {})
        return {f: known[f] for f in features if f in known}

    def values(
        self,
        recording: Any,
        features: Sequence[str],
        settings: Mapping[str, Any],
        stats: CacheStats | None = None,
    ) -> dict[str, float]:
        """Return the per-sweep values of ``features``, computing the missing ones.

        The missing features are computed in one efel call through the recording's
        own ``compute_efeatures`` (into a scratch dict: ``recording.efeatures`` is
        left as it was).

        Parameters
        ----------
        recording : Recording
            The sweep.
        features : sequence of str
            efel feature names.
        settings : mapping
            The merged efel settings of the call.
        stats : CacheStats, optional
            Counters to update.

        Returns
        -------
        dict
            ``{efel feature: value}`` (NaN when efel gives nothing).
        """
        key = self.key(recording, settings)
        known = self._values.setdefault(key, {})
        missing = list(dict.fromkeys(f for f in features if f not in known))
        if missing:
            saved = recording.efeatures
            recording.efeatures = {}
            try:
                recording.compute_efeatures(missing, missing, dict(settings))
                known.update(recording.efeatures)
            finally:
                recording.efeatures = saved
            self._trim()
        if stats is not None:
            stats.computed += len(missing)
            stats.hits += len(set(features)) - len(missing)
            stats.efel_calls += 1 if missing else 0
        return {f: known[f] for f in features}

    def _trim(self) -> None:
        while len(self._values) > self.max_sweeps:
            self._values.pop(next(iter(self._values)))


def target_groups(
    targets: Iterable[Mapping[str, Any]],
) -> list[tuple[dict[str, Any], str, list[str], list[str]]]:
    """Group targets by identical (efel_settings, protocol), in first-seen order.

    Returns
    -------
    list of tuple
        ``(target-level settings, protocol, efel names, output names)`` (spec §2.3).
    """
    groups: list[tuple[dict[str, Any], str, list[str], list[str]]] = []
    for target in targets:
        settings = target.get("efel_settings", {})
        protocol = target["protocol"]
        for group in groups:
            if group[0] == settings and group[1] == protocol:
                break
        else:
            group = (settings, protocol, [], [])
            groups.append(group)
        group[2].append(target["efeature"])
        group[3].append(target.get("efeature_name", target["efeature"]))
    return groups


def extract_efeatures_cached(
    cells: Sequence[Any],
    targets: Sequence[Mapping[str, Any]],
    efel_settings: Mapping[str, Any] | None,
    cache: FeatureCache,
    *,
    progress: Callable[[int, int], None] | None = None,
    cancel: Any = None,
) -> CacheStats:
    """Fill ``recording.efeatures`` of every targeted recording, through the cache.

    The same values, in the same order, as the pipeline's
    ``extract_efeatures_at_targets`` (spec §2.3).

    Parameters
    ----------
    cells : sequence of Cell
        Cells whose recordings get their features.
    targets : sequence of dict
        Target dicts.
    efel_settings : mapping, optional
        Global efel settings (target-level settings win).
    cache : FeatureCache
        Where values are looked up and stored.
    progress : callable, optional
        ``progress(done, total)`` in sweeps.
    cancel : object, optional
        Anything with ``is_set()``; checked before every sweep.

    Returns
    -------
    CacheStats
        How many values came from the cache and how many were computed.

    Raises
    ------
    Cancelled
        When ``cancel.is_set()``; the cache keeps what was computed so far.
    """
    base = dict(efel_settings or {})
    groups = target_groups(targets)
    work = [
        (recording, {**base, **settings}, features, names)
        for cell in cells
        for settings, protocol, features, names in groups
        for recording in cell.get_recordings_by_protocol_name(protocol)
    ]
    stats = CacheStats()
    for done, (recording, settings, features, names) in enumerate(work):
        check_cancel(cancel, "the results were kept")
        values = cache.values(recording, features, settings, stats)
        for name, feature in zip(names, features, strict=True):
            recording.efeatures[name] = values[feature]
        if progress is not None:
            progress(done + 1, len(work))
    return stats
