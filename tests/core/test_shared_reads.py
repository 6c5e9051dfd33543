"""Each file is read once: the reads a key shares, and those it must not share.

A Ramp entry without a window is read raw to find its ramp, then read with the window
found (:func:`~efex_gui.core.session.protocol_reading.load_protocol_group`); the two
reads share one file read when the reader never looks at the keys that differ
(:func:`~efex_gui.core.readers.cache_key`).
"""

from __future__ import annotations

import struct
import threading
from collections import Counter
from typing import TYPE_CHECKING, Any

import numpy as np
import pytest

from efex_gui.core.errors import MetadataError
from efex_gui.core.readers import cache_key, igor, read_file, shared_reads
from efex_gui.core.readers._common import RAW_ONLY
from efex_gui.core.recordings.ecodes import Ramp
from efex_gui.core.recordings.timing_consensus import SOURCE_KEY, stimulus_source
from efex_gui.core.session.dataset import EntryKey
from efex_gui.core.session.folder_import import import_folder
from efex_gui.core.session.protocol_reading import load_protocol_group
from efex_gui.core.synthetic.demo import simulate_cell
from efex_gui.core.synthetic.nwb_writer import write_nwb
from tests.conftest import shared_path

if TYPE_CHECKING:
    from pathlib import Path

DT_S = 1e-4
SETTINGS = {"Threshold": -20.0}
#: values for the keys that only interpret the traces (none is a reader's default)
INTERPRETATION = {
    "ton": 123.0,
    "toff": 456.0,
    "amp": 0.3,
    "hypamp": -0.02,
    "ljp": 14.0,
    "v_corr": -70.0,
    "dt": 0.00025,
    "v_unit": "mV",
    "i_unit": "pA",
    "t_unit": "ms",
    SOURCE_KEY: "consensus",
    RAW_ONLY: True,
}


def write_ibw(path: Path, data: np.ndarray, unit: str, dt: float) -> str:
    """Write a 1-D float32 Igor binary wave, version 5 (TN003), as Igor does."""
    values = np.asarray(data, dtype=">f4")
    wave = bytearray(320)
    struct.pack_into(">i", wave, 12, values.size)  # npnts
    struct.pack_into(">h", wave, 16, 2)  # NT_FP32
    struct.pack_into(">32s", wave, 28, path.stem.encode()[:31])
    struct.pack_into(">4i", wave, 68, values.size, 0, 0, 0)  # nDim
    struct.pack_into(">4d", wave, 84, dt, 1.0, 1.0, 1.0)  # sfA
    struct.pack_into(">4s", wave, 148, unit.encode())  # dataUnits
    struct.pack_into(">4s", wave, 152, b"s")  # dimUnits[0]
    header = bytearray(64)
    struct.pack_into(">hhi", header, 0, 5, 0, len(wave) + values.nbytes)
    shorts = np.frombuffer(bytes(header + wave), dtype=">i2").astype(np.int64)
    struct.pack_into(">H", header, 2, -int(shorts.sum()) % 65536)  # checksum
    path.write_bytes(bytes(header) + bytes(wave) + values.tobytes())
    return str(path)


def ramp_sweeps() -> list[tuple[np.ndarray, np.ndarray]]:
    """Three APThreshold sweeps: (current in nA, voltage in mV), sampled at DT_S.

    Each current ramps from its holding level at 100 ms to 2100 ms and jumps back.
    """
    rng = np.random.default_rng(0)
    t_ms = np.arange(25000) * DT_S * 1e3
    sweeps = []
    for amp in (0.5, 0.7, 0.9):
        inside = (t_ms >= 100.0) & (t_ms < 2100.0)
        current = -0.05 + np.where(inside, amp * (t_ms - 100.0) / 2000.0, 0.0)
        current += 0.002 * rng.standard_normal(t_ms.size)
        voltage = -70.0 + 0.1 * rng.standard_normal(t_ms.size)
        sweeps.append((current, voltage))
    return sweeps


def ramp_entries(
    folder: Path, stem: str = "ramp"
) -> list[tuple[EntryKey, dict[str, Any]]]:
    """Three APThreshold sweeps as Igor waves (A, V, s), as a folder import lists them.

    Files ``{stem}_ch0_{k}.ibw`` (current) and ``{stem}_ch1_{k}.ibw`` (voltage) of
    :func:`ramp_sweeps`; the metadata has no window (the ramp finder gives it).
    """
    jobs = []
    for k, (current, voltage) in enumerate(ramp_sweeps()):
        i_file = write_ibw(folder / f"{stem}_ch0_{k}.ibw", current * 1e-9, "A", DT_S)
        v_file = write_ibw(folder / f"{stem}_ch1_{k}.ibw", voltage * 1e-3, "V", DT_S)
        config = {"i_file": i_file, "v_file": v_file, "t_unit": "s"}
        jobs.append((EntryKey("RampCell", "APThreshold", k), config))
    return jobs


def count_wave_reads(
    monkeypatch: pytest.MonkeyPatch, thread: int | None = None
) -> Counter[str]:
    """Count the Igor waves read from disk, by path (on ``thread`` only, if given)."""
    reads: Counter[str] = Counter()
    lock = threading.Lock()  # the browser reads on its worker thread
    read_wave = igor.read_wave

    def counted(path: str) -> dict[str, Any]:
        if thread is None or threading.get_ident() == thread:
            with lock:
                reads[path] += 1
        return read_wave(path)

    monkeypatch.setattr(igor, "read_wave", counted)
    return reads


def count_nwb_reads(monkeypatch: pytest.MonkeyPatch) -> Counter[tuple[str, str]]:
    """Count the traces read from NWB files, by (file name, protocols read)."""
    from efex_gui.core.readers.nwb import reader

    reads: Counter[tuple[str, str]] = Counter()
    layout_readers = reader._layout_readers

    def counting(read: Any) -> Any:
        def counted(f: Any, request: Any) -> Any:
            protocols = ",".join(request.protocols or ["*"])
            reads[(request.path.rsplit("/", 1)[-1], protocols)] += 1
            return read(f, request)

        return counted

    monkeypatch.setattr(
        reader,
        "_layout_readers",
        lambda: {name: counting(read) for name, read in layout_readers().items()},
    )
    return reads


@pytest.fixture
def wave_reads(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """Count the Igor waves read from disk, by path."""
    return count_wave_reads(monkeypatch)


def _all_read_once(jobs: list[tuple[EntryKey, dict[str, Any]]], reads: Counter[str]):
    files = {c[k] for _, c in jobs for k in ("i_file", "v_file")}
    assert set(reads) == files
    assert reads == dict.fromkeys(files, 1), "a file was read more than once"


def test_a_ramp_entry_without_a_window_is_read_once(tmp_path, wave_reads):
    jobs = ramp_entries(tmp_path)
    results, timing = load_protocol_group(jobs, efel_settings=SETTINGS)
    assert timing is not None
    assert timing.found, timing.reason
    assert abs(timing.ton - 100.0) <= 1.0
    recordings = [r for res in results for r in res.recordings]
    assert len(recordings) == 3
    assert all(type(r) is Ramp for r in recordings)
    assert all(stimulus_source(r) == "consensus" for r in recordings)
    assert sorted(r.amp for r in recordings) == pytest.approx([0.5, 0.7, 0.9], 0.02)
    _all_read_once(jobs, wave_reads)


def test_sscx_apthreshold_folder_entries_are_read_once(wave_reads):
    folder = shared_path("sscx", "input-traces")
    found = import_folder(folder)
    cell = sorted(found.files_metadata)[0]
    entries = found.files_metadata[cell]["APThreshold"]
    jobs = [
        (
            EntryKey(cell, "APThreshold", k),
            {
                key: str(found.root / value) if key.endswith("_file") else value
                for key, value in entry.items()
            },
        )
        for k, entry in enumerate(entries)
    ]
    assert len(jobs) == 3
    wave_reads.clear()  # the import looked into a few files
    results, timing = load_protocol_group(jobs, efel_settings=SETTINGS)
    assert timing is not None
    assert timing.found, timing.reason
    assert all(not res.error and len(res.recordings) == 1 for res in results)
    _all_read_once(jobs, wave_reads)


# ------------------------------------------------ what the key leaves out, and why
@pytest.fixture(scope="module")
def nwb_file(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A simulated cell's NWB file (IDRest, IV, ... sweeps)."""
    cell = simulate_cell(seed=3)
    return str(write_nwb(cell, tmp_path_factory.mktemp("nwb") / "cell.nwb"))


def _same_traces(a: list[dict[str, Any]], b: list[dict[str, Any]]) -> bool:
    if len(a) != len(b) or [sorted(t) for t in a] != [sorted(t) for t in b]:
        return False
    return all(
        np.array_equal(np.asarray(x[k]), np.asarray(y[k]), equal_nan=False)
        if isinstance(x[k], np.ndarray)
        else x[k] == y[k]
        for x, y in zip(a, b, strict=True)
        for k in x
    )


IGOR = {"i_file": "i.ibw", "v_file": "v.ibw", "t_unit": "s"}
NWB = {"filepath": "cell.nwb", "protocol_name": "IDRest"}


def left_out(base: dict[str, Any]) -> list[str]:
    """The keys of :data:`INTERPRETATION` the key of ``base``'s reader leaves out."""
    return [
        key
        for key, value in INTERPRETATION.items()
        if cache_key({**base, key: value}) == cache_key(base)
    ]


@pytest.mark.parametrize(
    ("reader", "key"),
    [("igor", k) for k in left_out(IGOR)] + [("nwb", k) for k in left_out(NWB)],
)
def test_the_keys_left_out_never_change_what_the_reader_returns(
    reader, key, tmp_path, nwb_file
):
    """The proof the key relies on: each key it leaves out, given, changes nothing."""
    if reader == "igor":
        (_, base), *_ = ramp_entries(tmp_path)
    else:
        base = {**NWB, "filepath": nwb_file}
    given = {**base, key: INTERPRETATION[key]}
    assert cache_key(given) == cache_key(base)
    assert _same_traces(read_file(given), read_file(base))


def test_the_window_and_units_are_left_out_for_igor_and_kept_where_read():
    assert set(left_out(IGOR)) == set(INTERPRETATION) - {"t_unit"}
    assert set(left_out(NWB)) == set(INTERPRETATION) - {"toff"}
    ibw = {"i_file": "a.ibw", "v_file": "b.ibw", "t_unit": "s"}
    window = {"ton": 100.0, "toff": 2100.0, SOURCE_KEY: "consensus", RAW_ONLY: True}
    assert cache_key({**ibw, **window, "ljp": 14, "v_unit": "V"}) == cache_key(ibw)
    assert cache_key({**ibw, "v_file": "c.ibw"}) != cache_key(ibw)
    assert cache_key({**ibw, "t_unit": "ms"}) != cache_key(ibw)  # required: kept
    nwb = {"filepath": "a.nwb", "protocol_name": "IDRest"}
    assert cache_key({**nwb, "ton": 1.0, RAW_ONLY: True}) == cache_key(nwb)
    assert cache_key({**nwb, "protocol_name": "IV"}) != cache_key(nwb)
    assert cache_key({**nwb, "toff": 2000.0}) != cache_key(nwb)  # no file: kept
    assert cache_key({**nwb, "repetition": 2}) != cache_key(nwb)
    # readers that synthesise the step, choose channels on RAW_ONLY or copy the
    # units and ljp into their traces keep them
    for path in ("a.abf", "a.atf", "a.wcp", "a.csv", "a.dat", "a.axgd"):
        entry = {"filepath": path, "i_unit": "pA"}
        assert cache_key({**entry, "ton": 1.0}) != cache_key(entry), path
        assert cache_key({**entry, RAW_ONLY: True}) != cache_key(entry), path
    csv = {"filepath": "a.csv", "t_unit": "ms"}
    assert cache_key({**csv, "v_unit": "mV"}) != cache_key({**csv, "v_unit": "V"})
    lccr = {"filepath": "a.txt", "amplitudes": [0.1], "ton": 1.0}
    assert cache_key({**lccr, "ljp": 14}) != cache_key(lccr)
    # the interpretation-only key that no reader reads
    entry = {"filepath": "a.abf"}
    assert cache_key({**entry, SOURCE_KEY: "consensus"}) == cache_key(entry)


def test_a_key_of_an_impossible_type_is_never_shared(tmp_path, wave_reads):
    (_, config), *_ = ramp_entries(tmp_path)
    bad = {**config, "ton": "soon"}
    assert cache_key(bad) is None
    with shared_reads() as shared:
        with shared.keeping():
            read_file(config)
        with pytest.raises(MetadataError, match="ton"):
            read_file(bad)  # the reader's own check, not the kept read


def test_entries_that_read_other_traces_do_not_share(nwb_file, monkeypatch):
    from efex_gui.core.readers.nwb import reader as nwb_reader

    opened: list[str] = []
    open_nwb = nwb_reader.open_nwb

    def counted(path: str) -> Any:
        opened.append(path)
        return open_nwb(path)

    monkeypatch.setattr(nwb_reader, "open_nwb", counted)
    entry = {"filepath": nwb_file, "protocol_name": "IDRest"}
    with shared_reads() as shared:
        with shared.keeping():
            idrest = read_file(entry)
        iv = read_file({**entry, "protocol_name": "IV"})
        again = read_file({**entry, "ton": 700.0})  # the kept read, taken once
        last = read_file(entry)
    assert len(opened) == 3  # IDRest, IV, then IDRest again (taken once only)
    assert not _same_traces(iv, idrest)
    assert _same_traces(again, idrest)
    assert _same_traces(last, idrest)


def test_traces_read_again_for_two_protocols_on_one_file_read_it_once(
    tmp_path, wave_reads
):
    """SSCx's Step sweeps are IDrest's files: the extraction read each file twice."""
    from efex_gui.core.recordings.traces import reload_traces
    from efex_gui.core.session.dataset import load_config

    _key, config = ramp_entries(tmp_path)[0]
    window = {"ton": 100.0, "toff": 2100.0}
    recordings = [
        recording
        for protocol, extra in (("IDrest", window), ("Step", {**window, "ljp": 14.0}))
        for recording in load_config(
            EntryKey("Cell", protocol, 0), {**config, **extra}, count_spikes=False
        ).recordings
    ]
    assert [r.protocol_name for r in recordings] == ["IDrest", "Step"]
    before = [r.voltage.copy() for r in recordings]
    for recording in recordings:
        recording.drop_traces(keep_spikecount=False)
    wave_reads.clear()
    assert reload_traces(recordings) == recordings
    assert wave_reads == {config["i_file"]: 1, config["v_file"]: 1}
    for recording, voltage in zip(recordings, before, strict=True):
        np.testing.assert_array_equal(recording.voltage, voltage)
    assert not np.array_equal(before[0], before[1]), "each interpreted as its own"


def test_a_planned_read_is_kept_until_its_second_read_and_no_longer(
    tmp_path, wave_reads
):
    _key, config = ramp_entries(tmp_path)[0]
    other = {**config, "ton": 100.0, "toff": 2100.0}  # the same file, interpreted
    with shared_reads() as shared:
        shared.expect([config, other])
        first = read_file(dict(config))
        assert wave_reads == {config["i_file"]: 1, config["v_file"]: 1}
        second = read_file(dict(other))
        assert wave_reads == {config["i_file"]: 1, config["v_file"]: 1}
        np.testing.assert_array_equal(first[0]["voltage"], second[0]["voltage"])
        read_file(dict(config))  # not planned: read again, nothing was held
    assert wave_reads == {config["i_file"]: 2, config["v_file"]: 2}


def test_an_inner_scope_reads_its_misses_through_the_outer_plan(tmp_path, wave_reads):
    jobs = ramp_entries(tmp_path)
    twice = [{**config, "ton": 100.0, "toff": 2100.0} for _, config in jobs]
    with shared_reads() as outer:
        outer.expect([*(config for _, config in jobs), *twice])
        load_protocol_group(jobs, efel_settings=SETTINGS)  # its own scope inside
        for config in twice:
            read_file(dict(config))
    _all_read_once(jobs, wave_reads)


def test_a_raw_read_is_kept_only_where_the_read_with_the_window_can_take_it():
    """An ABF Ramp's raw read (another key for the ABF reader) was held for nothing."""
    from tests.conftest import held_bytes

    config = {
        "filepath": str(shared_path("formats", "abf", "17o05028_ic_steps.abf")),
        RAW_ONLY: True,
    }
    with shared_reads() as shared:
        empty = held_bytes(shared)
        with shared.keeping():
            assert read_file(dict(config))
        assert held_bytes(shared) - empty < 1_000, "a read no later read can take"


def test_keeping_scopes_nest(tmp_path, wave_reads):
    _key, config = ramp_entries(tmp_path)[0]
    with shared_reads() as shared:
        with shared.keeping():
            with shared.keeping():
                pass
            read_file(dict(config))  # still kept: the inner scope ended, not this one
        read_file({**config, "ton": 100.0})
    assert wave_reads == {config["i_file"]: 1, config["v_file"]: 1}


def test_a_scope_serves_only_its_own_thread(tmp_path, wave_reads):
    """The GUI extracts on one thread while the browser reads on another."""
    _key, config = ramp_entries(tmp_path)[0]
    with shared_reads() as shared:
        shared.expect([config, config])
        read_file(dict(config))  # kept for the second planned read
        other = threading.Thread(target=read_file, args=(dict(config),))
        other.start()
        other.join()
        assert wave_reads == {config["i_file"]: 2, config["v_file"]: 2}
        read_file(dict(config))  # still kept: the other thread neither saw nor took it
    assert wave_reads == {config["i_file"]: 2, config["v_file"]: 2}


# ------------------------------------------- the extraction finds Ramp windows itself
def test_a_cell_extracted_with_consensus_timing_reads_its_ramp_files_once(
    tmp_path, wave_reads
):
    """The Ramp window is found as the extraction reads the cell, from one read."""
    from efex_gui.core.extraction.read_and_extract import read_recordings
    from efex_gui.core.extraction.request import RunExtras

    jobs = ramp_entries(tmp_path)
    files_metadata = {"RampCell": {"APThreshold": [config for _, config in jobs]}}
    (cell,) = read_recordings(
        files_metadata,
        efel_settings=SETTINGS,
        options=RunExtras(consensus_timing=True),
    )
    recordings = cell.get_recordings_by_protocol_name("APThreshold")
    assert len(recordings) == 3
    assert all(type(r) is Ramp for r in recordings)
    assert all(stimulus_source(r) == "consensus" for r in recordings)
    assert all(abs(r.ton - 100.0) <= 1.0 for r in recordings)
    _all_read_once(jobs, wave_reads)
    assert all(_no_window(c) for _, c in jobs), "the caller's entries are not changed"


def _no_window(config: dict[str, Any]) -> bool:
    return "ton" not in config and "toff" not in config


def test_efex_extract_of_a_folder_reads_each_ramp_file_once(tmp_path, wave_reads):
    """The import reads no trace: the extraction finds the Ramp windows.

    The import looks at one entry of the cell (its units: the wave's headers, not
    its samples); every file is read once, by the extraction.
    """
    from efex_gui.cli_inspect import load_path
    from efex_gui.core.extraction.pipeline import extract_efeatures

    folder = tmp_path / "data" / "RampCell"
    folder.mkdir(parents=True)
    jobs = ramp_entries(folder, stem="X_APThreshold")
    loaded = load_path(folder.parent)
    (entries,) = loaded.kwargs["files_metadata"]["RampCell"].values()
    assert len(entries) == 3
    assert dict(wave_reads) == {}, "the import read traces"
    wave_reads.clear()
    kwargs = {k: v for k, v in loaded.kwargs.items() if k != "auto_targets"}
    extract_efeatures(
        None,
        **kwargs,
        targets=[{"protocol": "APThreshold", "efeature": "Spikecount",
                  "amplitude": 100, "tolerance": 100}],
        efel_settings=SETTINGS,
        absolute_amplitude=True,
    )  # fmt: skip
    _all_read_once(jobs, wave_reads)


# -------------------------------------------- NWB: toff only where the layout reads it
def ramp_nwb(path: Path) -> str:
    """The three sweeps of :func:`ramp_sweeps` in one NWB file (the Scala layout)."""
    sweeps = [
        {
            "id": f"CurrentClampSeries_{k:03d}",
            "protocol_name": "APThreshold",
            "voltage": voltage,
            "current": current,
            "dt": DT_S * 1e3,
            "stimulus": {"percent": 100.0 * (k + 1)},
            "repetition": 1,
        }
        for k, (current, voltage) in enumerate(ramp_sweeps())
    ]
    return str(write_nwb({"name": "RampCell", "sweeps": sweeps}, path))


def test_an_nwb_ramp_entry_without_a_window_is_read_once(tmp_path, monkeypatch):
    reads = count_nwb_reads(monkeypatch)
    path = ramp_nwb(tmp_path / "ramp.nwb")
    entry = {"filepath": path, "protocol_name": "APThreshold"}
    results, timing = load_protocol_group(
        [(EntryKey("RampCell", "APThreshold", 0), entry)], efel_settings=SETTINGS
    )
    assert timing is not None
    assert timing.found, timing.reason
    (result,) = results
    assert len(result.recordings) == 3
    assert all(stimulus_source(r) == "consensus" for r in result.recordings)
    assert reads == {("ramp.nwb", "APThreshold"): 1}


def test_toff_is_in_the_nwb_key_only_for_a_vu_file(tmp_path):
    """The VU layout drops the sweeps shorter than toff; the others never read it."""
    from tests.core.readers.test_reader_oracle import _vu_file

    vu = tmp_path / "vu.nwb"
    _vu_file(vu)
    scala = ramp_nwb(tmp_path / "scala.nwb")
    for path, protocol, kept in ((vu, "IDRest", True), (scala, "APThreshold", False)):
        entry = {"filepath": str(path), "protocol_name": protocol}
        windowed = {**entry, "ton": 10.0, "toff": 299.0}
        assert (cache_key(windowed) != cache_key(entry)) is kept, path
        assert _same_traces(read_file(windowed), read_file(entry)) is not kept, path


def test_the_layout_is_looked_at_again_when_the_file_changes(tmp_path):
    from tests.core.readers.test_reader_oracle import _vu_file

    path = tmp_path / "cell.nwb"
    ramp_nwb(path)
    windowed = {"filepath": str(path), "protocol_name": "IDRest", "toff": 299.0}
    assert cache_key(windowed) == cache_key({**windowed, "toff": 1.0})
    _vu_file(path)  # the same path, now a VU file
    assert cache_key(windowed) != cache_key({**windowed, "toff": 1.0})


def test_a_look_at_a_wave_reads_its_headers_not_its_samples(tmp_path, monkeypatch):
    """The import's look at a file (``inspect_file``) is not a second read of it."""
    from efex_gui.core.readers import inspect_file

    (_, config), *_ = ramp_entries(tmp_path)
    wave = igor.read_wave(config["v_file"])
    expected = {k: v for k, v in wave.items() if k != "data"}
    header = igor.wave_header(config["v_file"])
    assert header == {**expected, "n_samples": wave["data"].size}
    assert {k: type(v) for k, v in header.items() if k != "n_samples"} == {
        k: type(v) for k, v in expected.items()
    }

    def read_wave(path: str) -> Any:
        raise AssertionError(f"{path} read whole")

    monkeypatch.setattr(igor, "read_wave", read_wave)
    info = inspect_file(config["v_file"])
    assert info["sweeps"] == [{"id": wave["name"], "n_samples": wave["data"].size}]
    assert info["channels"][0]["unit"] == "V"
