"""A lab's protocol names taken by their eCode (``match_protocols_by_ecode``).

BluePyEfe matches its rheobase protocols and its automatic targets by exact name
(``IDRest``, ``IV``...): a folder of another lab's files ("FI steps 500ms", a
protocol the person mapped to Step) gave no rheobase and no feature. A session made
from a folder takes its protocols by their eCode; a BluePyEfe configuration keeps
BluePyEfe's rule.
"""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING, Any

from efex_gui.core.analysis.protocol_map import MeasureProtocols
from efex_gui.core.export.recipe import build_recipe, recipe_kwargs
from efex_gui.core.extraction.incremental import IncrementalExtractor
from efex_gui.core.extraction.pipeline import extract_efeatures
from efex_gui.core.recordings.ecodes.names import protocols_like
from efex_gui.core.rheobase.strategies import PRESET_PROTOCOLS_RHEOBASE
from efex_gui.core.session.document import ExtractionSettings, Session
from efex_gui.core.targets.auto import AutoTarget, default_auto_targets

if TYPE_CHECKING:
    from pathlib import Path

    import pytest

#: the demo's IDRest sweeps under a lab's name (a Step by its name: "step")
LAB_STEPS = "FI steps 500ms"
#: the demo's IV sweeps under a name no table knows, mapped to Step by the person
LAB_MAPPED = "Trigem injection"


def _lab_session(demo_dir: Path, by_ecode: bool) -> Session:
    """The demo cells with a lab's protocol names (the entries read the same sweeps)."""
    demo = json.loads((demo_dir / "files_metadata.json").read_text())
    files_metadata: dict[str, Any] = {
        cell: {LAB_STEPS: protocols["IDRest"], LAB_MAPPED: protocols["IV"]}
        for cell, protocols in demo.items()
    }
    return Session(
        files_metadata=files_metadata,
        data_root=demo_dir,
        ecode_overrides={LAB_MAPPED: "Step"},
        settings=ExtractionSettings(match_protocols_by_ecode=by_ecode),
    )


def test_a_protocol_joins_the_names_of_its_ecode() -> None:
    protocols = ["IDRest", "IV_FI_saray", "0112 steps dual", "sAHP", "Odd", "Ramp 1"]
    joined = protocols_like(["IV", "IDRest"], protocols, {"Odd": "Step"})
    assert joined == ["IV", "IDRest", "IV_FI_saray"]  # "iv" in the name
    # a mapped protocol takes its eCode's key ("step"), a named one its name's
    steps = protocols_like(["Step"], protocols, {"Odd": "Step"})
    assert steps == ["Step", "0112 steps dual", "Odd"]
    assert protocols_like(["IV"], ["Ramp 1", "sAHP"], {}) == ["IV"]


def test_the_rule_is_off_for_a_bluepyefe_configuration(demo_dir: Path) -> None:
    session = _lab_session(demo_dir, by_ecode=False)
    assert session.rheobase_protocols() is None  # BluePyEfe's preset, by name
    assert session.auto_targets() is None
    kwargs = session.to_extract_kwargs()
    assert "match_protocols_by_ecode" not in kwargs
    assert kwargs["protocols_rheobase"] is None
    assert "auto_targets" not in kwargs


def test_the_rule_adds_the_sessions_protocols_of_the_same_ecode(
    demo_dir: Path,
) -> None:
    session = _lab_session(demo_dir, by_ecode=True)
    assert session.rheobase_protocols() == [
        *PRESET_PROTOCOLS_RHEOBASE,
        LAB_STEPS,
        LAB_MAPPED,
    ]
    session.settings.protocols_rheobase = ["IV"]  # the person's own list
    assert session.rheobase_protocols() == ["IV"]  # nothing named like "iv"
    targets = session.auto_targets()
    assert targets is not None
    for ours, bluepyefe in zip(targets, default_auto_targets(), strict=True):
        assert ours.protocols == [*bluepyefe.protocols, LAB_STEPS, LAB_MAPPED]


def test_a_labs_folder_gives_features_only_with_the_rule(
    demo_dir: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The same files, the same run: BluePyEfe's names find nothing."""
    caplog.set_level(logging.WARNING)
    off = extract_efeatures(
        tmp_path / "off", **_lab_session(demo_dir, by_ecode=False).to_extract_kwargs()
    )
    assert off[0] == {}
    assert "No cells with valid rheobase" in caplog.text
    on = extract_efeatures(
        tmp_path / "on", **_lab_session(demo_dir, by_ecode=True).to_extract_kwargs()
    )
    assert set(on[2]["all_threshold_current"]) == {"SimCell1", "SimCell2"}
    assert all(v > 0 for v in on[2]["all_threshold_current"].values())
    assert any(name.startswith(LAB_STEPS) for name in on[0])
    assert any(name.startswith(LAB_MAPPED) for name in on[0])  # the mapped IV


def test_the_guis_run_applies_the_rule_and_the_ecode_mapping(demo_dir: Path) -> None:
    """The GUI's extraction (incremental) gives what the CLI gives on the session."""
    session = _lab_session(demo_dir, by_ecode=True)
    result = IncrementalExtractor().run(session)
    assert result.skipped == []  # the mapped protocol is read as a Step
    expected = extract_efeatures(None, **session.to_extract_kwargs())
    assert json.dumps(result.features, sort_keys=True) == json.dumps(
        expected[0], sort_keys=True
    )
    assert result.currents == expected[2]
    assert any(name.startswith(LAB_MAPPED) for name in result.features)


def test_the_guis_run_reads_an_unmapped_protocol_as_skipped(demo_dir: Path) -> None:
    """An eCode no table knows skips its files with a reason: the run goes on."""
    session = _lab_session(demo_dir, by_ecode=True)
    session.ecode_overrides.clear()
    result = IncrementalExtractor().run(session)
    reasons = {reason for _, _, reason in result.skipped}
    assert len(result.skipped) == 2  # the IV files of the two cells
    assert all("no eCode linked" in reason for reason in reasons)
    assert all("Choose eCode" in reason for reason in reasons)  # the fix, in words
    assert any(name.startswith(LAB_STEPS) for name in result.features)


def test_a_sidecar_replays_the_automatic_targets(tmp_path: Path) -> None:
    """The folder's automatic targets are written in the recipe and read back."""
    targets = default_auto_targets()
    targets[0].protocols.append(LAB_STEPS)
    recipe = build_recipe({}, {"auto_targets": targets}, {}, None, tmp_path)
    assert "not_reproducible" not in recipe
    kwargs, _ = recipe_kwargs({"recipe": recipe}, tmp_path)
    replayed = kwargs["auto_targets"]
    assert [type(t) for t in replayed] == [AutoTarget] * 3
    assert [t.protocols for t in replayed] == [t.protocols for t in targets]
    assert [t.amplitudes for t in replayed] == [t.amplitudes for t in targets]
    chosen = default_auto_targets()
    chosen[0].active_ecode = ["IDRest"]  # it has already chosen: not a definition
    recipe = build_recipe({}, {"auto_targets": chosen}, {}, None, tmp_path)
    assert recipe["not_reproducible"] == ["auto_targets objects were given"]


def test_efex_extract_on_a_folder_takes_the_labs_protocols() -> None:
    """``efex extract FOLDER``: the ABF samples of other labs get rheobase protocols."""
    from efex_gui.cli_inspect import load_path
    from tests.conftest import shared_path

    kwargs = load_path(shared_path("formats", "abf")).kwargs
    labs = [
        "0112 steps dual -50 to 150 step 10",  # a Step by BluePyEfe's table ("step")
        "Trigem_Current_Clamp_Current injection_Neg",  # guessed Step by its name
        "IV_FI_IN0_saray",  # "iv"
        "3 -excitability_400ms50pA",  # guessed Step
        "step cclamp",
    ]  # the gap-free recording has no eCode: left out
    assert kwargs["protocols_rheobase"] == [*PRESET_PROTOCOLS_RHEOBASE, *labs]
    iv_target = kwargs["auto_targets"][2]
    assert iv_target.protocols == ["IV", "Step", *labs]


def test_a_labs_plain_steps_feed_every_cell_measure() -> None:
    protocols = [
        "IV", "IDRest", "APWaveform", "sAHP", "IDrest_long",  # BBP names: as they are
        "0112 steps dual", "IV_FI_saray", "Trigem inj", "chirp",
    ]  # fmt: skip
    measures = MeasureProtocols().with_lab_steps(protocols, {"Trigem inj": "Step"})
    labs = ("0112 steps dual", "IV_FI_saray", "Trigem inj")
    for name, value in measures.to_dict().items():
        default = MeasureProtocols().to_dict()[name]
        assert value == [*default, *labs]
    nothing = MeasureProtocols().with_lab_steps(["IV", "IDthresh", "sAHP"], {})
    assert nothing == MeasureProtocols()


def test_a_folder_import_guesses_a_labs_ecodes_as_the_dialog_does() -> None:
    """``efex extract FOLDER`` reads the protocols the import dialog would map."""
    from efex_gui.core.session.folder_import import guess_ecodes, import_folder
    from tests.conftest import shared_path

    found = import_folder(shared_path("formats", "abf"))
    guessed = {
        "3 -excitability_400ms50pA": "Step",
        "Trigem_Current_Clamp_Current injection_Neg": "Step",
    }
    assert found.ecode_overrides == guessed
    assert set(found.guessed) == set(guessed)
    assert "usually a Step" in found.guessed["3 -excitability_400ms50pA"]
    # a profile's own mapping wins; BluePyEfe's names are never guessed
    assert guess_ecodes(["IDRest", "Trigem inj"], {"Trigem inj": "Ramp"}) == {}


def test_a_damaged_ecode_setting_or_recipe_is_named(tmp_path: Path) -> None:
    """A hand-edited "false" string, or a damaged sidecar, says what is wrong."""
    import pytest

    from efex_gui.core.errors import MetadataError, SettingsError

    with pytest.raises(SettingsError, match=r"'match_protocols_by_ecode'.*'false'"):
        ExtractionSettings.from_dict({"match_protocols_by_ecode": "false"})
    recipe = build_recipe(
        {}, {"auto_targets": default_auto_targets()}, {}, None, tmp_path
    )
    recipe["auto_targets"][1]["amplitude"] = 200  # not a field of an AutoTarget
    with pytest.raises(MetadataError, match=r"recipe\.auto_targets is damaged"):
        recipe_kwargs({"recipe": recipe}, tmp_path)
