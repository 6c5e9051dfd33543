"""Import naming: patterns, pairing of V/I files, building files_metadata."""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING

import pytest

from efex_gui.core.errors import MetadataError
from efex_gui.core.importing.file_names import (
    PRESET_PATTERNS,
    ImportEntry,
    ParsedName,
    best_pattern,
    build_files_metadata,
    compile_pattern,
    natural_key,
    pair_files,
    parse_name,
    relative_to,
    scan_folder,
)
from efex_gui.core.session.dataset import file_role
from tests.conftest import shared_path

if TYPE_CHECKING:
    from pathlib import Path

SSCX, BBP, SINGLE = (p.regex for p in PRESET_PATTERNS)


def test_sscx_name_in_a_cell_folder() -> None:
    parsed = parse_name("input-traces/C060109A1-SR-C1/X_IDrest_ch0_326.ibw", SSCX)
    assert parsed == ParsedName(
        "input-traces/C060109A1-SR-C1/X_IDrest_ch0_326.ibw",
        cell="C060109A1-SR-C1",
        protocol="IDrest",
        channel="0",
        number="326",
    )


def test_bbp_name_with_or_without_folder() -> None:
    for path in ("B6/B6_Ch3_IDRest_181.ibw", "B95_Ch0_IDRest_107.ibw"):
        parsed = parse_name(path, BBP)
        assert parsed is not None
        assert parsed.protocol == "IDRest"
    assert parse_name("B6/B6_Ch3_IDRest_181.ibw", BBP).channel == "3"
    assert parse_name("B95_Ch0_IDRest_107.ibw", BBP).cell == "B95"


def test_single_file_pattern_and_non_matching_names() -> None:
    parsed = parse_name("rig/cell_007.nwb", SINGLE)
    assert parsed.cell == "cell_007"
    assert parsed.protocol is None
    # a text file may be a trace: its content decides (tests/core/test_folder_import)
    assert parse_name("cell_008.txt", SINGLE).cell == "cell_008"
    assert parse_name("notes.docx", SINGLE) is None
    assert parse_name("B6/B6_Ch3_IDRest_181.ibw", SINGLE) is None


def test_pattern_errors_are_clear() -> None:
    with pytest.raises(MetadataError, match="not a valid regex"):
        compile_pattern("(?P<cell>[")
    with pytest.raises(MetadataError, match="cell"):
        compile_pattern(r"(?P<protocol>\w+)\.ibw")


def test_best_pattern_picks_the_one_matching_most() -> None:
    sscx = ["A/X_IDrest_ch0_1.ibw", "A/X_IDrest_ch1_1.ibw"]
    bbp = ["B6_Ch0_IDRest_1.ibw", "B6_Ch3_IDRest_1.ibw", "B8_Ch0_IDRest_2.ibw"]
    assert best_pattern(sscx).regex == SSCX
    assert best_pattern(bbp).regex == BBP
    assert best_pattern(["readme.md"]) is None


def test_pairing_uses_number_and_lowest_channel_as_current() -> None:
    names = [
        parse_name(p, BBP)
        for p in (
            "B6_Ch3_IDRest_10.ibw",
            "B6_Ch0_IDRest_10.ibw",
            "B6_Ch0_IDRest_9.ibw",
            "B6_Ch3_IDRest_9.ibw",
            "B6_Ch0_IDRest_11.ibw",
        )
    ]
    result = pair_files(names)
    assert [(e.number, e.i_file, e.v_file) for e in result.entries] == [
        ("9", "B6_Ch0_IDRest_9.ibw", "B6_Ch3_IDRest_9.ibw"),
        ("10", "B6_Ch0_IDRest_10.ibw", "B6_Ch3_IDRest_10.ibw"),
    ]
    assert "no voltage" in result.skipped["B6_Ch0_IDRest_11.ibw"]


def test_pairing_with_explicit_channels() -> None:
    names = [parse_name(p, BBP) for p in ("c_Ch1_IV_1.ibw", "c_Ch2_IV_1.ibw")]
    entry = pair_files(names, current_channel="2", voltage_channel="1").entries[0]
    assert (entry.i_file, entry.v_file) == ("c_Ch2_IV_1.ibw", "c_Ch1_IV_1.ibw")
    result = pair_files(names, current_channel="5")
    assert not result.entries
    assert "no current" in result.skipped["c_Ch1_IV_1.ibw"]


def test_pairing_follows_roles_read_from_the_files() -> None:
    names = [
        parse_name(p, SSCX)
        for p in (
            "A/X_IV_ch0_1.ibw",
            "A/X_IV_ch1_1.ibw",
            "A/X_IV_ch0_2.ibw",
            "A/X_IV_ch1_2.ibw",
            "B/X_IV_ch0_1.ibw",
            "B/X_IV_ch1_1.ibw",
        )
    ]
    asked = []

    def role_of(path: str) -> str | None:
        asked.append(path)
        if path.startswith("B/"):
            raise OSError("unreadable")
        return "voltage" if "ch0" in path else "current"

    result = pair_files(names, role_of=role_of)
    assert [(e.cell, e.v_file) for e in result.entries] == [
        ("A", "A/X_IV_ch0_1.ibw"),
        ("A", "A/X_IV_ch0_2.ibw"),
        ("B", "B/X_IV_ch1_1.ibw"),
    ]
    assert len(asked) == 4, "roles are read once per cell and channel"


def test_single_files_take_protocols_from_the_file() -> None:
    names = [parse_name(p, SINGLE) for p in ("a.nwb", "b.nwb", "bad.nwb")]

    def protocols_of(path: str) -> list[str]:
        if path == "bad.nwb":
            raise OSError("truncated")
        return {"a.nwb": ["IDRest", "IV"], "b.nwb": []}[path]

    result = pair_files(names, protocols_of=protocols_of)
    assert [(e.cell, e.protocol, e.filepath) for e in result.entries] == [
        ("a", "IDRest", "a.nwb"),
        ("a", "IV", "a.nwb"),
    ]
    assert "truncated" in result.skipped["bad.nwb"]
    assert "no protocol" in result.skipped["b.nwb"]
    assert "no protocol" in pair_files(names[:1]).skipped["a.nwb"]


def test_build_files_metadata_adds_non_empty_defaults() -> None:
    entries = [
        ImportEntry("c", "IDRest", "2", v_file="v2", i_file="i2"),
        ImportEntry("c", "IV", None, filepath="c.nwb", repetition="3"),
    ]
    fm = build_files_metadata(
        entries,
        {"i_unit": "pA", "v_unit": "mV", "t_unit": "s", "dt": None, "ljp": 14},
        protocol_defaults={"IDRest": {"ton": 700, "toff": 2700}},
    )
    assert fm == {
        "c": {
            "IDRest": [
                {
                    "ordinal": "2",
                    "i_file": "i2",
                    "v_file": "v2",
                    "i_unit": "pA",
                    "v_unit": "mV",
                    "t_unit": "s",
                    "ljp": 14,
                    "ton": 700,
                    "toff": 2700,
                }
            ],
            "IV": [
                {
                    "filepath": "c.nwb",
                    "i_unit": "pA",
                    "v_unit": "mV",
                    "t_unit": "s",
                    "ljp": 14,
                    "repetition": 3,
                }
            ],
        }
    }


def test_scan_folder_lists_recordings_in_natural_order(tmp_path: Path) -> None:
    for rel in (
        "c/x_10.ibw",
        "c/x_9.ibw",
        "c/.hidden.ibw",
        "notes.md",
        "a.NWB",
        ".git/x.ibw",
    ):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_bytes(b"")
    assert scan_folder(tmp_path) == ["a.NWB", "c/x_9.ibw", "c/x_10.ibw"]
    assert natural_key("x_9") < natural_key("x_10")


def test_relative_to(tmp_path: Path) -> None:
    assert relative_to(tmp_path / "a" / "b.ibw", tmp_path) == "a/b.ibw"
    outside = tmp_path.parent / "elsewhere.ibw"
    assert relative_to(outside, tmp_path) == outside.as_posix()


def test_sscx_folder_gives_the_oracle_file_pairs() -> None:
    """Importing the SSCx folder finds the same IDrest/IV pairs as the oracle inputs."""
    traces = shared_path("sscx", "input-traces")
    inputs = json.loads(shared_path("oracle", "sscx-dev4", "inputs.json").read_text())
    paths = scan_folder(traces)
    pattern = best_pattern(paths)
    assert pattern is not None
    assert pattern.regex == SSCX
    compiled = compile_pattern(pattern.regex)
    parsed = [n for n in (parse_name(p, compiled) for p in paths) if n]
    root = str(traces)

    def role_of(path: str) -> str | None:
        return file_role(f"{root}/{path}")

    result = pair_files(parsed, role_of=role_of)
    assert not result.skipped
    fm = build_files_metadata(result.entries, {"i_unit": "A", "v_unit": "V"})
    prefix = "sscx/input-traces/"
    for cell, protocols in inputs["files_metadata"].items():
        for protocol in ("IDrest", "IV", "APWaveform"):
            ours = {
                (prefix + e["i_file"], prefix + e["v_file"]) for e in fm[cell][protocol]
            }
            theirs = {(e["i_file"], e["v_file"]) for e in protocols[protocol]}
            assert ours == theirs, (cell, protocol)


@pytest.mark.skipif(sys.platform == "win32", reason="symlinks need privileges")
def test_symlinked_cell_folders_are_followed_once(tmp_path: Path) -> None:
    from efex_gui.core.importing.file_names import scan_folder

    store = tmp_path / "store" / "cellA"
    store.mkdir(parents=True)
    (store / "cellA_IDRest_1.nwb").write_bytes(b"")
    project = tmp_path / "project"
    project.mkdir()
    (project / "cellA").symlink_to(store, target_is_directory=True)
    (project / "cellA" / "loop").symlink_to(project, target_is_directory=True)
    assert scan_folder(project) == ["cellA/cellA_IDRest_1.nwb"]
