"""The import settings a folder starts with: remembered only where they fit."""

from __future__ import annotations

from efex_gui.core.importing.file_names import PRESET_PATTERNS
from efex_gui.core.importing.profile import pattern_matches, starting_profile

DEFAULT = {"pattern": "", "defaults": {"ljp": "", "i_unit": ""}}
BBP = ["B6/B6_Ch0_IDRest_181.ibw", "B6/B6_Ch3_IDRest_181.ibw"]
SSCX = ["C1/X_IDrest_ch0_1.ibw", "C1/X_IDrest_ch1_1.ibw"]


def _remembered(folder: str) -> dict:
    bbp = next(p.regex for p in PRESET_PATTERNS if pattern_matches(p.regex, BBP))
    return {"pattern": bbp, "defaults": {"ljp": "14", "i_unit": "pA"},
            "folder": folder}  # fmt: skip


def test_same_folder_keeps_everything() -> None:
    start = starting_profile(DEFAULT, _remembered("/lab/a"), "/lab/a", BBP)
    assert start.profile["defaults"]["ljp"] == "14"
    assert not start.carried


def test_another_folder_gets_the_pattern_but_only_an_offer_of_the_ljp() -> None:
    start = starting_profile(DEFAULT, _remembered("/lab/a"), "/lab/b", BBP)
    assert start.profile["pattern"] == _remembered("")["pattern"]
    assert start.profile["defaults"]["ljp"] == ""
    assert start.carried == {"ljp": "14", "i_unit": "pA"}
    assert "not applied" in start.notice


def test_a_built_in_default_is_not_offered_as_the_last_labs() -> None:
    """t_unit "s" is every import's default: no notice for another folder."""
    default = {"pattern": "", "defaults": {"ljp": "", "t_unit": "s"}}
    remembered = {**_remembered("/lab/a"), "defaults": {"ljp": "", "t_unit": "s"}}
    start = starting_profile(default, remembered, "/lab/b", BBP)
    assert start.profile["defaults"] == {"ljp": "", "t_unit": "s"}
    assert not start.carried
    assert not start.notice
    remembered["defaults"]["t_unit"] = "ms"  # the last lab's own
    assert starting_profile(default, remembered, "/lab/b", BBP).carried == {
        "t_unit": "ms"
    }


def test_a_pattern_that_matches_nothing_is_not_offered() -> None:
    start = starting_profile(DEFAULT, _remembered("/lab/a"), "/other", SSCX)
    assert start.profile["pattern"] == ""
    assert not start.carried
    assert "guessed" in start.notice
    assert pattern_matches("(", SSCX) == 0
