"""The persistent feature cache (efex_gui.core.extraction.feature_store)."""

from __future__ import annotations

import copy
import json
import logging
import os
import shutil
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from efex_gui.core import features
from efex_gui.core.extraction import feature_cache, feature_store
from efex_gui.core.extraction.feature_cache import FeatureCache
from efex_gui.core.extraction.feature_store import (
    FeatureStore,
    default_cache_dir,
    open_default_store,
    sweep_key,
)
from efex_gui.core.extraction.read_and_extract import _create_cell
from tests.conftest import ROOT

SETTINGS = {"strict_stiminterval": True, "Threshold": -20.0, "interp_step": 0.025}
FEATURES = ["Spikecount", "AP_amplitude", "voltage_base", "time_to_first_spike"]


@pytest.fixture(scope="module")
def demo(demo_dir: Path) -> dict[str, Any]:
    """The session demo's files_metadata (absolute paths; never edit the files)."""
    files_metadata: dict[str, Any] = json.loads(
        (demo_dir / "files_metadata.json").read_text(encoding="utf-8")
    )
    return files_metadata


def _recordings(demo: dict, cell: str = "SimCell1", **extra: Any) -> list[Any]:
    protocols = copy.deepcopy(demo[cell])
    for entries in protocols.values():
        for config in entries:
            config.update(extra)
    return _create_cell((cell, protocols)).recordings


def _keys(recordings: list[Any], settings: dict = SETTINGS) -> list[str | None]:
    return [sweep_key(r, settings) for r in recordings]


def _efel_calls(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """Record the feature lists of every efel call (spike counts left out)."""
    calls: list[list[str]] = []
    real = features.call_efel

    def counting(*args: Any, **kwargs: Any) -> Any:
        if list(args[3]) != ["peak_time"]:
            calls.append(list(args[3]))
        return real(*args, **kwargs)

    monkeypatch.setattr(features, "call_efel", counting)
    return calls


# --- keys ---------------------------------------------------------------------------


def test_key_is_stable_and_one_per_sweep(demo: dict) -> None:
    keys = _keys(_recordings(demo))
    assert None not in keys
    assert keys == _keys(_recordings(demo))
    assert len(set(keys)) == len(keys)


def test_a_changed_metadata_value_or_setting_misses(demo: dict) -> None:
    base = set(_keys(_recordings(demo)))
    assert base.isdisjoint(_keys(_recordings(demo, ljp=14.0)))
    assert base.isdisjoint(_keys(_recordings(demo, note="any new metadata value")))
    other = {**SETTINGS, "Threshold": -10.0}
    assert base.isdisjoint(_keys(_recordings(demo), other))


def test_a_changed_version_misses(demo: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    recordings = _recordings(demo)
    base = set(_keys(recordings))
    monkeypatch.setattr(feature_store, "efel_version", lambda: "0.0-other")
    assert base.isdisjoint(_keys(recordings))
    monkeypatch.undo()
    monkeypatch.setattr(feature_store, "efex_version", lambda: "0.0+other")
    assert base.isdisjoint(_keys(recordings))


def test_a_changed_file_misses_even_with_the_same_size_and_mtime(
    demo: dict, tmp_path: Path
) -> None:
    source = Path(demo["SimCell1"]["IDRest"][0]["filepath"])
    copied = tmp_path / source.name
    shutil.copy2(source, copied)
    moved = {
        p: [{**c, "filepath": str(copied)} for c in e]
        for p, e in demo["SimCell1"].items()
    }
    local = {"SimCell1": moved}
    first = _keys(_recordings(local))
    stat = copied.stat()
    os.utime(copied, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    assert set(first).isdisjoint(_keys(_recordings(local))), "mtime"
    os.utime(copied, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert _keys(_recordings(local)) == first
    data = bytearray(copied.read_bytes())
    data[-1] ^= 0xFF  # same size, same mtime, other content
    copied.write_bytes(bytes(data))
    os.utime(copied, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert copied.stat().st_size == stat.st_size
    assert set(first).isdisjoint(_keys(_recordings(local))), "content hash"


def test_recordings_without_a_file_identity_are_not_persisted(demo: dict) -> None:
    (recording, *_) = _recordings(demo)
    recording.source_index = None  # e.g. read by a user's recording_reader
    assert sweep_key(recording, SETTINGS) is None


def test_default_folder_honours_xdg_and_the_override(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("EFEX_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_cache_dir() == tmp_path / "xdg" / "efex_gui"
    monkeypatch.setenv("EFEX_CACHE_DIR", str(tmp_path / "mine"))
    assert default_cache_dir() == tmp_path / "mine"
    assert open_default_store(enabled=False) is None
    assert not (tmp_path / "mine").exists()


# --- values -------------------------------------------------------------------------


def test_values_survive_the_process_and_skip_efel(
    demo: dict, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    recordings = _recordings(demo)
    first = FeatureCache(store=FeatureStore(tmp_path))
    items = [(r, SETTINGS, FEATURES) for r in recordings]
    computed = first.fill(items)
    calls = _efel_calls(monkeypatch)
    fresh = FeatureCache(store=FeatureStore(tmp_path))  # a new process, in effect
    again = fresh.fill([(r, SETTINGS, FEATURES) for r in _recordings(demo)])
    assert calls == []
    assert json.dumps(again) == json.dumps(computed)  # NaN included, bit for bit
    fresh.fill([(r, SETTINGS, [*FEATURES, "mean_frequency"]) for r in recordings])
    assert calls == [["mean_frequency"]] * len(recordings)


def test_values_read_back_share_their_names_and_keys(
    demo: dict, tmp_path: Path
) -> None:
    """A session keeps the values of 25 000 sweeps in memory: one string per feature
    name and per key, not a copy of each for every sweep read back (0.6 kB a sweep)."""
    recordings = _recordings(demo)
    FeatureCache(store=FeatureStore(tmp_path)).fill(
        [(r, SETTINGS, FEATURES) for r in recordings]
    )
    again = _recordings(demo)
    cache = FeatureCache(store=FeatureStore(tmp_path))
    cache.fill([(r, SETTINGS, FEATURES) for r in again])
    held = list(cache._values.items())
    assert len(held) == len(again) > 1
    first_names = list(held[0][1])
    for _key, values in held[1:]:
        assert all(a is b for a, b in zip(first_names, values, strict=True))
    mine = {cache.key(r, SETTINGS) for r in again}
    assert {id(key) for key, _ in held} <= {id(key) for key in mine}


def test_pipeline_second_run_calls_efel_for_no_feature(
    demo: dict, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from efex_gui.core.extraction.pipeline import extract_efeatures
    from efex_gui.core.synthetic.demo import DEMO_TARGETS

    kwargs = {
        "files_metadata": copy.deepcopy(demo),
        "targets": copy.deepcopy(list(DEMO_TARGETS)),
        "protocols_rheobase": ["IDthresh", "IDRest"],
    }
    plain = extract_efeatures(None, **copy.deepcopy(kwargs))
    store = FeatureStore(tmp_path)
    cached = extract_efeatures(None, **copy.deepcopy(kwargs), feature_store=store)
    assert len(store) > 0
    calls = _efel_calls(monkeypatch)
    again = extract_efeatures(None, **copy.deepcopy(kwargs), feature_store=store)
    assert calls == []
    for a, b, c in zip(plain, cached, again, strict=True):
        assert json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)
        assert json.dumps(b, sort_keys=True) == json.dumps(c, sort_keys=True)


def _every_efel_call(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """Record the feature lists of every efel call, spike counts included."""
    calls: list[list[str]] = []
    real = features.call_efel

    def counting(*args: Any, **kwargs: Any) -> Any:
        calls.append(list(args[3]))
        return real(*args, **kwargs)

    monkeypatch.setattr(features, "call_efel", counting)
    return calls


def test_second_run_calls_efel_for_nothing_spike_counts_and_trace_filter_included(
    demo: dict, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from efex_gui.core.extraction.pipeline import extract_efeatures
    from efex_gui.core.session.document import ExtractionSettings, Session
    from efex_gui.core.session.exclusions import ExclusionKey, TraceFilter
    from efex_gui.core.synthetic.demo import DEMO_TARGETS

    session = Session(
        files_metadata=copy.deepcopy(demo),
        targets=copy.deepcopy(list(DEMO_TARGETS)),
        settings=ExtractionSettings(protocols_rheobase=["IDthresh", "IDRest"]),
    )
    file = demo["SimCell1"]["IDRest"][0]["filepath"]
    session.exclusions = session.exclusions.with_excluded(
        [ExclusionKey("SimCell1", "IDRest", file, 2)]
    )
    kwargs = session.to_extract_kwargs()
    assert isinstance(kwargs["recording_reader"], TraceFilter)
    plain = extract_efeatures(None, **copy.deepcopy(kwargs))
    store = FeatureStore(tmp_path)
    calls = _every_efel_call(monkeypatch)
    first = extract_efeatures(None, **copy.deepcopy(kwargs), feature_store=store)
    assert any(c == ["peak_time"] for c in calls)  # the rheobase's spike counts
    calls.clear()
    again = extract_efeatures(None, **copy.deepcopy(kwargs), feature_store=store)
    assert calls == []
    for a, b, c in zip(plain, first, again, strict=True):
        assert json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)
        assert json.dumps(b, sort_keys=True) == json.dumps(c, sort_keys=True)


def test_filtered_traces_keep_their_position_in_the_file(demo: dict) -> None:
    from efex_gui.core.importing.file_names import entry_file
    from efex_gui.core.session.exclusions import TraceFilter

    protocols = {"IDRest": copy.deepcopy(demo["SimCell1"]["IDRest"][:1])}
    whole = _create_cell(("SimCell1", copy.deepcopy(protocols))).recordings
    config = {**protocols["IDRest"][0], "protocol_name": "IDRest"}
    reader = TraceFilter({(entry_file(config), "IDRest"): {0, 2}})
    kept = _create_cell(("SimCell1", protocols), reader).recordings
    assert [r.source_index for r in kept] == [
        r.source_index for r in whole if r.source_index not in (0, 2)
    ]
    assert len(kept) == len(whole) - 2
    expected = [
        k
        for r, k in zip(whole, _keys(whole), strict=True)
        if r.source_index > 2 or r.source_index == 1
    ]
    assert _keys(kept) == expected


# --- damage -------------------------------------------------------------------------


def test_a_damaged_entry_is_recomputed_never_trusted(
    demo: dict, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    recordings = _recordings(demo)
    expected = FeatureCache(store=FeatureStore(tmp_path)).fill(
        [(r, SETTINGS, FEATURES) for r in recordings]
    )
    with sqlite3.connect(tmp_path / feature_store.DB_NAME) as conn:
        conn.execute("UPDATE sweeps SET data = CAST('{\"Spikecount\": 99.0}' AS BLOB)")
    calls = _efel_calls(monkeypatch)
    again = FeatureCache(store=FeatureStore(tmp_path)).fill(
        [(r, SETTINGS, FEATURES) for r in recordings]
    )
    assert len(calls) == len(recordings)
    assert json.dumps(again) == json.dumps(expected)


def test_a_damaged_database_is_moved_aside(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / feature_store.DB_NAME).write_bytes(b"not sqlite at all" * 100)
    store = FeatureStore(tmp_path)
    with caplog.at_level(logging.WARNING):
        store.put_many({"k": {"voltage_base": -70.0}})
    assert store.enabled
    assert store.get_many(["k"]) == {"k": {"voltage_base": -70.0}}
    assert list(tmp_path.glob(f"{feature_store.DB_NAME}.corrupt-*"))
    assert sum("damaged" in r.message for r in caplog.records) == 1


# --- two processes ------------------------------------------------------------------

WRITER = textwrap.dedent(
    """
    import sys
    from efex_gui.core.extraction.feature_store import FeatureStore
    store = FeatureStore(sys.argv[1], timeout_s=60)
    me = sys.argv[2]
    for i in range(150):
        store.put_many({f"shared{i}": {f"f{me}": float(i)},
                        f"own{me}-{i}": {"v": float(i)}})
        store.get_many([f"shared{i}", f"own{me}-{i}"])
    assert store.enabled
    """
)


def test_two_processes_writing_at_once(tmp_path: Path) -> None:
    FeatureStore(tmp_path).check()  # both start on an existing database
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    procs = [
        subprocess.Popen([sys.executable, "-c", WRITER, str(tmp_path), me], env=env)
        for me in ("0", "1")
    ]
    assert [p.wait(timeout=300) for p in procs] == [0, 0]
    store = FeatureStore(tmp_path)
    shared = store.get_many([f"shared{i}" for i in range(150)])
    assert all(
        v == {"f0": float(i), "f1": float(i)}
        for i, v in enumerate(shared[f"shared{i}"] for i in range(150))
    )
    assert len(store) == 150 + 2 * 150
    with sqlite3.connect(tmp_path / feature_store.DB_NAME) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        (total,) = conn.execute("SELECT SUM(nbytes) FROM sweeps").fetchone()
    assert store.total_bytes() == total


# --- size ---------------------------------------------------------------------------


def test_least_recently_used_entries_are_evicted(tmp_path: Path) -> None:
    value = {f"feature_{i}": float(i) for i in range(10)}  # ~200 bytes
    size = len(json.dumps(value, sort_keys=True))
    store = FeatureStore(tmp_path, max_bytes=5 * size)
    for i in range(12):
        store.put_many({f"k{i}": value})
        assert store.get_many(["k0"]), "k0 is used all the time"
    assert store.total_bytes() <= 5 * size
    kept = store.get_many([f"k{i}" for i in range(12)])
    assert "k0" in kept
    assert "k11" in kept
    assert "k1" not in kept
    assert "k2" not in kept
    assert len(kept) <= 5


# --- a cache that cannot be written ------------------------------------------------


def test_unwritable_folder_disables_the_cache_with_one_warning(
    demo: dict, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    if os.geteuid() != 0:  # root ignores permissions: a file in the way instead
        readonly = tmp_path / "readonly"
        readonly.mkdir(mode=0o500)
        folders = [blocker / "cache", readonly]
    else:
        folders = [blocker / "cache"]
    for folder in folders:
        caplog.clear()
        store = FeatureStore(folder)
        cache = FeatureCache(store=store)
        with caplog.at_level(logging.WARNING):
            values = cache.fill([(r, SETTINGS, FEATURES) for r in _recordings(demo)])
            cache.fill([(r, SETTINGS, ["mean_frequency"]) for r in _recordings(demo)])
        assert not store.enabled
        assert len(values) == len(_recordings(demo))
        assert sum("disabled" in r.message for r in caplog.records) == 1


def test_a_full_disk_disables_the_cache_and_the_run_goes_on(
    demo: dict, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store = FeatureStore(tmp_path)
    assert store.check()
    conn = store._connection()
    assert conn is not None
    (pages,) = conn.execute("PRAGMA page_count").fetchone()
    conn.execute(f"PRAGMA max_page_count = {pages}")  # SQLITE_FULL on growth
    recordings = _recordings(demo)
    with caplog.at_level(logging.WARNING):
        values = FeatureCache(store=store).fill(
            [(r, SETTINGS, FEATURES) for r in recordings]
        )
        FeatureCache(store=store).fill([(r, SETTINGS, FEATURES) for r in recordings])
    assert not store.enabled
    assert all("voltage_base" in v for v in values)
    assert sum("disabled" in r.message for r in caplog.records) == 1


# --- the CLI ------------------------------------------------------------------------


def test_cli_fills_the_cache_and_no_cache_bypasses_it(
    tmp_path: Path, feature_cache_dir: Path, demo_dir: Path
) -> None:
    from efex_gui.cli import main

    config = str(demo_dir / "config.json")  # efex demo runs the same extraction
    assert main(["extract", config, "-o", str(tmp_path / "a"), "-q", "--no-cache"]) == 0
    assert not (feature_cache_dir / feature_store.DB_NAME).exists()
    assert main(["extract", config, "-o", str(tmp_path / "b"), "-q"]) == 0
    assert len(FeatureStore(feature_cache_dir)) > 0


def test_a_reopened_session_computes_nothing(demo: dict, tmp_path: Path) -> None:
    """The GUI's extractor writes the store; a new one (reopen) only reads it."""
    from efex_gui.core.extraction.incremental import IncrementalExtractor
    from efex_gui.core.session.document import ExtractionSettings, Session
    from efex_gui.core.synthetic.demo import DEMO_TARGETS

    session = Session(
        files_metadata=copy.deepcopy(demo),
        targets=copy.deepcopy(list(DEMO_TARGETS)),
        settings=ExtractionSettings(protocols_rheobase=["IDthresh", "IDRest"]),
    )
    first = IncrementalExtractor(FeatureCache(store=FeatureStore(tmp_path))).run(
        session
    )
    again = IncrementalExtractor(FeatureCache(store=FeatureStore(tmp_path))).run(
        session
    )
    assert first.stats.computed > 0
    assert (again.stats.computed, again.stats.efel_calls) == (0, 0)
    assert again.features == first.features


def test_the_incremental_run_holds_no_trace_afterwards(demo: dict) -> None:
    """Memory flat with the number of cells: numbers kept, traces read on demand."""
    from efex_gui.core.extraction.incremental import IncrementalExtractor
    from efex_gui.core.session.document import ExtractionSettings, Session
    from efex_gui.core.synthetic.demo import DEMO_TARGETS

    session = Session(
        files_metadata=copy.deepcopy(demo),
        targets=copy.deepcopy(list(DEMO_TARGETS)),
        settings=ExtractionSettings(protocols_rheobase=["IDthresh", "IDRest"]),
    )
    extractor = IncrementalExtractor()
    result = extractor.run(session)
    held = [r for c in result.cells for r in c.recordings]
    held += [r for e in extractor._entries.values() for r in e.recordings]
    assert held
    assert all(r.voltage is None and r.reader_data is None for r in held)
    assert any(r.efeatures for r in held)
    counts = [r.spikecount for c in result.cells for r in c.recordings]  # re-read
    assert any(n for n in counts if n is not None)


def test_a_session_cache_keeps_a_bounded_memory_and_finds_the_rest_in_the_store(
    demo: dict, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the GUI's extractor lives as long as the session: with a store, its memory is
    # bounded and what it forgot comes back from the store, without efel
    monkeypatch.setattr(feature_cache, "SESSION_MEMORY_SWEEPS", 3)
    recordings = _recordings(demo)
    assert len(recordings) > 3
    cache = feature_cache.session_cache(FeatureStore(tmp_path))
    computed = cache.fill([(r, SETTINGS, FEATURES) for r in recordings])
    assert len(cache) == 3
    calls = _efel_calls(monkeypatch)
    again = cache.fill([(r, SETTINGS, FEATURES) for r in recordings])
    assert calls == []
    assert json.dumps(again) == json.dumps(computed)
    assert len(cache) == 3
    # without a store nothing else holds the values: memory keeps them
    unbounded = feature_cache.session_cache(None)
    unbounded.fill([(r, SETTINGS, FEATURES) for r in recordings])
    assert len(unbounded) == len(recordings)
