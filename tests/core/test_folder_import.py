"""The headless default folder import (what the GUI's import dialog does unchanged)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from efex_gui.core.errors import MetadataError
from efex_gui.core.session.folder_import import DEFAULT_PROFILE, import_folder
from efex_gui.resources import load_default
from tests.conftest import shared_path

if TYPE_CHECKING:
    from pathlib import Path


def test_the_core_profile_is_the_dialogs() -> None:
    assert load_default("import") == DEFAULT_PROFILE


def test_a_folder_of_cells_and_one_cell_folder_alone() -> None:
    folder = shared_path("sscx", "input-traces")
    everything = import_folder(folder)
    assert set(everything.files_metadata) == {
        "C060109A1-SR-C1", "C060109A2-SR-C1", "C061128A1-SR-C1", "C080501B2-SR-C1",
    }  # fmt: skip
    assert len(everything.files_metadata["C060109A1-SR-C1"]["IDrest"]) == 32
    alone = import_folder(folder / "C060109A1-SR-C1")
    assert list(alone.files_metadata) == ["C060109A1-SR-C1"]
    assert alone.root == folder.absolute()
    assert (
        alone.files_metadata["C060109A1-SR-C1"]
        == everything.files_metadata["C060109A1-SR-C1"]
    )


def test_nothing_to_import_is_said_plainly(tmp_path: Path) -> None:
    with pytest.raises(MetadataError, match="No recording file found"):
        import_folder(tmp_path)
    with pytest.raises(MetadataError, match="is not a folder"):
        import_folder(tmp_path / "missing")


def _current_clamp_atf(path: Path) -> None:
    """An ATF export of two current-clamp sweeps (an RC membrane, noisy)."""
    import numpy as np

    rng = np.random.default_rng(0)
    t = np.arange(0, 1.0, 1e-4)
    columns = [t]
    for amp in (100.0, 200.0):
        current = np.where((t >= 0.2) & (t < 0.7), amp, 0.0)
        v = np.full_like(t, -70.0)
        for k in range(1, t.size):
            v[k] = v[k - 1] + 5e-3 * (-(v[k - 1] + 70) + 0.1 * current[k])
        columns += [v + rng.normal(0, 0.2, t.size), current + rng.normal(0, 2, t.size)]
    titles = ['"Time (s)"', *[f'"Trace #{k} (mV)"\t"Trace #{k} (pA)"' for k in (1, 2)]]
    rows = ["\t".join(f"{x:.6g}" for x in row) for row in zip(*columns, strict=True)]
    path.write_text("\n".join(["ATF\t1.0", "0\t5", "\t".join(titles), *rows]) + "\n")


def test_a_file_without_protocol_names_is_one_protocol_named_by_the_file(
    tmp_path: Path,
) -> None:
    """ATF, WinWCP, AxoGraph...: the default pattern takes them, the file names it."""
    _current_clamp_atf(tmp_path / "cellA_steps.atf")
    found = import_folder(tmp_path)
    assert found.files_metadata == {
        "cellA_steps": {"cellA_steps": [{"filepath": "cellA_steps.atf", "t_unit": "s"}]}
    }
    assert found.skipped == {}


def test_voltage_clamp_files_are_left_out_saying_what_they_are() -> None:
    """Never imported as current clamp; the import says why nothing was imported."""
    for folder, count in (("atf", 2), ("wcp", 1)):
        with pytest.raises(MetadataError, match="voltage clamp") as caught:
            import_folder(shared_path("formats", folder))
        assert f"{count} files left out" in str(caught.value)


def test_a_heka_bundle_is_a_cell_per_amplifier_channel_as_in_the_dialog() -> None:
    found = import_folder(shared_path("formats", "heka"))
    assert list(found.files_metadata) == [f"190604s1c7r1 Vmon-{k}" for k in range(1, 9)]
    assert found.ecode_overrides == {"Sti 7S-Cc": "Step"}  # a lab's name, guessed


def test_a_text_trace_is_imported_and_notes_beside_it_are_not(tmp_path: Path) -> None:
    """A sampled trace is a recording; a short table or a README is left out."""
    import numpy as np

    t = np.arange(2000) * 0.25
    np.savetxt(tmp_path / "cell7.txt", np.c_[t, -70 + (t > 100) * 10.0])
    (tmp_path / "notes.csv").write_text("cell,rheobase\n7,0.2\n")
    (tmp_path / "README.txt").write_text("Recorded on 2020-01-01 by the lab.\n")
    found = import_folder(tmp_path)
    assert found.files_metadata == {
        "cell7": {"cell7": [{"filepath": "cell7.txt", "t_unit": "s"}]}
    }
    assert found.skipped["notes.csv"] == "a table, not a trace: 1 numeric rows"
    assert "no numeric rows" in found.skipped["README.txt"]
