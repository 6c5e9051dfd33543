"""Per-sweep efel value cache (efex_gui.core.extraction.feature_cache)."""

from __future__ import annotations

import copy
import json
from typing import TYPE_CHECKING, Any

import numpy as np
import pytest

from efex_gui.core.errors import Cancelled
from efex_gui.core.extraction.feature_cache import (
    CacheStats,
    FeatureCache,
    extract_efeatures_cached,
    key_memo,
    settings_key,
    share_identity,
    sweep_identity,
    target_groups,
)
from efex_gui.core.readers import read_file
from efex_gui.core.recordings.ecodes import ecode_for_protocol

if TYPE_CHECKING:
    from pathlib import Path

SETTINGS = {"strict_stiminterval": True, "Threshold": -20.0, "interp_step": 0.025}
FEATURES = [
    "Spikecount",
    "mean_frequency",
    "AP_amplitude",
    "AP_width",
    "time_to_first_spike",
    "voltage_base",
]


@pytest.fixture
def demo(demo_dir: Path) -> dict[str, Any]:
    """A fresh copy of the demo's files_metadata."""
    files_metadata: dict[str, Any] = json.loads(
        (demo_dir / "files_metadata.json").read_text(encoding="utf-8")
    )
    return files_metadata


class SimpleCell:
    """The two attributes the cached stage uses."""

    def __init__(self, name: str, recordings: list[Any]) -> None:
        self.name = name
        self.recordings = recordings

    def get_recordings_by_protocol_name(self, name: str) -> list[Any]:
        return [r for r in self.recordings if r.protocol_name == name]


def _read(demo: dict, cell: str, protocol: str, **config_extra: Any) -> list[Any]:
    config = {**copy.deepcopy(demo[cell][protocol][0]), **config_extra}
    ecode = ecode_for_protocol(protocol)
    return [ecode(config, trace, protocol, SETTINGS) for trace in read_file(config)]


def _cell(demo: dict, name: str) -> SimpleCell:
    return SimpleCell(name, _read(demo, name, "IDRest") + _read(demo, name, "IV"))


def _same(a: float, b: float) -> bool:
    return a == b or (np.isnan(a) and np.isnan(b))


def test_values_equal_one_efel_call_per_sweep(demo: dict) -> None:
    recordings = _read(demo, "SimCell1", "IDRest")
    cache = FeatureCache()
    for recording in recordings:
        cached = cache.values(recording, FEATURES, SETTINGS)
        recording.compute_efeatures(FEATURES, FEATURES, SETTINGS)
        assert all(_same(cached[f], recording.efeatures[f]) for f in FEATURES)


def test_second_lookup_calls_no_efel(
    demo: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    recordings = _read(demo, "SimCell1", "IDRest")
    cache = FeatureCache()
    first = [cache.values(r, FEATURES, SETTINGS) for r in recordings]
    for recording in recordings:
        monkeypatch.setattr(recording, "compute_efeatures", _forbidden)
    again = [cache.values(r, FEATURES, SETTINGS) for r in recordings]
    assert all(
        _same(a[f], b[f]) for a, b in zip(first, again, strict=True) for f in FEATURES
    )


def _forbidden(*args: Any, **kwargs: Any) -> None:
    raise AssertionError("efel was called although the value is cached")


def test_a_new_feature_computes_only_that_feature(demo: dict) -> None:
    recordings = _read(demo, "SimCell1", "IDRest")
    cache = FeatureCache()
    for recording in recordings:
        cache.values(recording, FEATURES[:3], SETTINGS)
    stats = CacheStats()
    for recording in recordings:
        cache.values(recording, FEATURES[:4], SETTINGS, stats)
    assert (stats.computed, stats.hits) == (len(recordings), 3 * len(recordings))


def test_settings_and_sweep_content_are_part_of_the_key(demo: dict) -> None:
    (first, *_), (shifted, *_) = (
        _read(demo, "SimCell1", "IDRest"),
        _read(demo, "SimCell1", "IDRest", ljp=10.0),
    )
    cache = FeatureCache()
    base = cache.values(first, ["voltage_base"], SETTINGS)["voltage_base"]
    moved = cache.values(shifted, ["voltage_base"], SETTINGS)["voltage_base"]
    assert moved == pytest.approx(base - 10.0)
    assert sweep_identity(first) != sweep_identity(shifted)
    other = cache.values(first, ["Spikecount"], {**SETTINGS, "Threshold": 10.0})
    assert len(cache) == 3
    assert (
        other["Spikecount"]
        <= cache.values(first, ["Spikecount"], SETTINGS)["Spikecount"]
    )


def test_identity_is_stable_across_reads(demo: dict) -> None:
    one = _read(demo, "SimCell1", "IDRest")
    two = _read(demo, "SimCell1", "IDRest")
    assert [sweep_identity(r) for r in one] == [sweep_identity(r) for r in two]
    assert len({sweep_identity(r) for r in one}) == len(one)


def test_keys_are_memoised_on_the_recording_not_pickled_nor_copied(
    demo: dict,
) -> None:
    """The memo lives in the recording (no global weak table per sweep)."""
    recording = _read(demo, "SimCell1", "IDRest")[0]
    identity = sweep_identity(recording)
    assert recording.cache_keys is key_memo(recording)
    assert len(recording.cache_keys) == 1
    assert sweep_identity(recording) == identity  # read back from the memo
    # a pickled or copied recording carries no memo: a copy may change its inputs
    assert "cache_keys" not in recording.__getstate__()
    moved = copy.copy(recording)
    assert moved.cache_keys is None
    moved.voltage = moved.voltage - 10.0
    assert sweep_identity(moved) != identity
    # a copy that keeps its inputs shares the memo of its source
    kept = copy.copy(recording)
    share_identity(recording, kept)
    assert kept.cache_keys is recording.cache_keys
    FeatureCache().key(kept, SETTINGS)
    assert settings_key(SETTINGS) in recording.cache_keys


def test_the_memo_of_keys_is_small_and_gives_back_what_was_set() -> None:
    """A browser recording's memo (its identity and one more key): a dict took
    0.18 kB of its 0.33 kB."""
    from efex_gui.core.recordings.compact import KeyMemo
    from tests.conftest import held_bytes

    digest = "1b3863b46a722e1b4ec97b9e356de4489c1a585a"
    settings = settings_key(SETTINGS)
    memo = KeyMemo()
    memo["identity"] = digest
    memo[settings] = "54818d2daf794b7b90235c1cf14566daf3c7d5b3"
    memo["odd"] = ("mem|" + digest, "{}")
    memo["upper"] = digest.upper()
    memo["none"] = None
    assert memo["identity"] is digest  # the string set: the feature cache shares it
    assert memo[settings] == "54818d2daf794b7b90235c1cf14566daf3c7d5b3"
    assert memo["odd"] == ("mem|" + digest, "{}")
    assert memo["upper"] == digest.upper()
    assert "none" in memo
    assert memo["none"] is None
    assert "missing" not in memo
    with pytest.raises(KeyError):
        memo["missing"]
    memo["identity"] = "00" * 20  # replaced in place
    assert memo["identity"] == "00" * 20
    assert len(memo) == 5
    other = "54818d2daf794b7b90235c1cf14566daf3c7d5b3"
    two = KeyMemo()
    two["identity"], two[settings] = digest, other
    as_dict = {"identity": digest, settings: other}
    names = ["identity", settings]  # shared by every memo
    keys = [digest, other]  # held by the feature cache too
    assert held_bytes(two, names, keys) < held_bytes(as_dict, names, keys) / 1.5


def test_settings_key_ignores_order_and_numpy_types() -> None:
    assert settings_key({"a": 1.0, "b": np.float64(2.0)}) == settings_key(
        {"b": 2.0, "a": 1.0}
    )
    assert settings_key(None) == settings_key({})


def test_target_groups_first_seen_order() -> None:
    targets = [
        {"efeature": "A", "protocol": "P", "amplitude": 1, "tolerance": 1},
        {"efeature": "B", "protocol": "Q", "amplitude": 1, "tolerance": 1},
        {
            "efeature": "C",
            "protocol": "P",
            "amplitude": 2,
            "tolerance": 1,
            "efel_settings": {},
        },
        {
            "efeature": "D",
            "protocol": "P",
            "amplitude": 2,
            "tolerance": 1,
            "efel_settings": {"Threshold": 0},
            "efeature_name": "D0",
        },
    ]
    assert target_groups(targets) == [
        ({}, "P", ["A", "C"], ["A", "C"]),
        ({}, "Q", ["B"], ["B"]),
        ({"Threshold": 0}, "P", ["D"], ["D0"]),
    ]


def _targets() -> list[dict[str, Any]]:
    return [
        {"efeature": f, "protocol": "IDRest", "amplitude": 150, "tolerance": 20}
        for f in FEATURES[:4]
    ] + [
        {
            "efeature": "voltage_base",
            "protocol": "IV",
            "amplitude": -40,
            "tolerance": 10,
        },
        # same output name with other settings: the last group wins (spec §2.3)
        {
            "efeature": "Spikecount",
            "protocol": "IDRest",
            "amplitude": 250,
            "tolerance": 20,
            "efel_settings": {"Threshold": 0.0},
        },
    ]


def test_cached_stage_matches_uncached_extraction(demo: dict) -> None:
    reference = [_cell(demo, "SimCell1"), _cell(demo, "SimCell2")]
    for cell in reference:
        for settings, protocol, features, names in target_groups(_targets()):
            for recording in cell.get_recordings_by_protocol_name(protocol):
                recording.compute_efeatures(features, names, {**SETTINGS, **settings})
    cells = [_cell(demo, "SimCell1"), _cell(demo, "SimCell2")]
    cache = FeatureCache()
    seen: list[tuple[int, int]] = []
    stats = extract_efeatures_cached(
        cells, _targets(), SETTINGS, cache, progress=lambda d, t: seen.append((d, t))
    )
    for ref, cell in zip(reference, cells, strict=True):
        for a, b in zip(ref.recordings, cell.recordings, strict=True):
            assert a.efeatures.keys() == b.efeatures.keys()
            assert all(_same(a.efeatures[k], b.efeatures[k]) for k in a.efeatures)
    assert seen[-1][0] == seen[-1][1]
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)
    assert stats.computed > 0
    again = extract_efeatures_cached(cells, _targets(), SETTINGS, cache)
    assert (again.computed, again.efel_calls) == (0, 0)


class _SetAfter:
    """A cancel token that becomes set after ``n`` checks."""

    def __init__(self, n: int) -> None:
        self.n = n

    def is_set(self) -> bool:
        self.n -= 1
        return self.n < 0


def test_cancel_stops_between_sweeps_and_keeps_cache(demo: dict) -> None:
    cells = [_cell(demo, "SimCell1")]
    cache = FeatureCache()
    with pytest.raises(Cancelled):
        extract_efeatures_cached(
            cells, _targets(), SETTINGS, cache, cancel=_SetAfter(2)
        )
    assert len(cache) == 2


# --- the incremental runner (efex_gui.core.extraction.incremental) --------------------


def _session(demo: dict, targets: Any = "demo") -> Any:
    from efex_gui.core.session.document import ExtractionSettings, Session
    from efex_gui.core.synthetic.demo import DEMO_TARGETS

    return Session(
        files_metadata=copy.deepcopy(demo),
        targets=list(copy.deepcopy(DEMO_TARGETS)) if targets == "demo" else targets,
        settings=ExtractionSettings(protocols_rheobase=["IDthresh", "IDRest"]),
    )


def _same_outputs(result: Any, session: Any) -> None:
    import json

    from efex_gui.core.extraction.pipeline import extract_efeatures

    outputs = extract_efeatures(None, **session.to_extract_kwargs())
    mine = (result.features, result.protocol_definitions, result.currents)
    for ours, theirs in zip(mine, outputs, strict=True):
        assert json.dumps(ours, sort_keys=True, default=float) == json.dumps(
            theirs, sort_keys=True, default=float
        )


def test_incremental_run_equals_extract_efeatures(demo: dict) -> None:
    from efex_gui.core.extraction.incremental import IncrementalExtractor
    from efex_gui.core.session.exclusions import ExclusionKey

    extractor = IncrementalExtractor()
    session = _session(demo)
    first = extractor.run(session)
    _same_outputs(first, session)
    n_entries = sum(len(e) for p in demo.values() for e in p.values())
    assert first.entries_read == n_entries
    assert first.stats.computed > 0
    file = demo["SimCell1"]["IDRest"][0]["filepath"]
    session.exclusions = session.exclusions.with_excluded(
        [ExclusionKey("SimCell1", "IDRest", file, 5), ExclusionKey("SimCell2", "IV")]
    )
    second = extractor.run(session)
    _same_outputs(second, session)
    assert (second.entries_read, second.stats.efel_calls) == (0, 0)
    assert first.signature != second.signature
    # the first result was not modified by the second run
    assert (
        len(first.cell("SimCell1").recordings)
        == len(second.cell("SimCell1").recordings) + 1
    )


def test_rerun_calls_efel_for_nothing_not_even_spike_counts(
    demo: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    from efex_gui.core import features
    from efex_gui.core.extraction.incremental import IncrementalExtractor
    from efex_gui.core.session.exclusions import ExclusionKey

    extractor = IncrementalExtractor()
    session = _session(demo)
    first = extractor.run(session)
    calls: list[Any] = []
    real = features.call_efel
    monkeypatch.setattr(
        features, "call_efel", lambda *a, **k: calls.append(a[3]) or real(*a, **k)
    )
    file = demo["SimCell2"]["IDRest"][0]["filepath"]
    session.exclusions = session.exclusions.with_excluded(
        [ExclusionKey("SimCell2", "IDRest", file, 3)]
    )
    second = extractor.run(session)
    assert calls == [], "the rheobase's spike counts come from the first run"
    assert [r.spikecount for r in second.cell("SimCell1").recordings] == [
        r.spikecount for r in first.cell("SimCell1").recordings
    ]


def test_incremental_auto_targets_and_overrides(demo: dict) -> None:
    from efex_gui.core.extraction.incremental import IncrementalExtractor

    extractor = IncrementalExtractor()
    session = _session(demo, targets=None)
    result = extractor.run(session)
    _same_outputs(result, session)
    assert result.auto_targets
    assert result.targets
    rheobase = result.cell("SimCell1").rheobase
    overridden = extractor.run(session, {"SimCell1": rheobase * 2})
    assert overridden.cell("SimCell1").rheobase == rheobase * 2
    assert overridden.computed_rheobase["SimCell1"] == rheobase
    assert overridden.signature != result.signature
    session.rheobase_overrides = {"SimCell1": rheobase * 2}
    from_session = extractor.run(session)
    assert from_session.rheobase_overrides == {"SimCell1": rheobase * 2}
    _same_outputs(from_session, session)  # the headless run honours them too
    assert from_session.features != result.features


def test_headless_overrides_in_both_branches_equal_the_incremental(
    demo: dict,
) -> None:
    from efex_gui.core.extraction.incremental import IncrementalExtractor

    extractor = IncrementalExtractor()
    for targets in ("demo", None):
        session = _session(demo, targets=targets)
        plain = extractor.run(session)
        rheobase = plain.cell("SimCell2").rheobase
        session.rheobase_overrides = {"SimCell2": rheobase * 0.8}
        overridden = extractor.run(session)
        assert overridden.currents["all_threshold_current"]["SimCell2"] == (
            rheobase * 0.8
        )
        assert overridden.features != plain.features, targets
        _same_outputs(overridden, session)


def test_incremental_reports_unreadable_files_and_cancels(demo: dict) -> None:
    from efex_gui.core.extraction.incremental import IncrementalExtractor

    session = _session(demo)
    session.files_metadata["SimCell2"]["IDRest"].append(
        {**session.files_metadata["SimCell2"]["IDRest"][0], "filepath": "/nope.nwb"}
    )
    extractor = IncrementalExtractor()
    with pytest.raises(Cancelled):
        extractor.run(session, cancel=_SetAfter(3))
    result = extractor.run(session)
    assert [(c, p) for c, p, _ in result.skipped] == [("SimCell2", "/nope.nwb")]
    assert result.features
