"""An exclusion follows the recording: a file excluded under one protocol is
excluded under every protocol that reads it (SSCx's "Step" reuses IDrest files)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt

from efex_gui.core.session.exclusions import ExclusionKey
from tests.conftest import shared_path
from tests.gui.helpers import main_window

if TYPE_CHECKING:
    from pathlib import Path

    from efex_gui.app.controller import SessionController


def _sscx_session(controller: SessionController, tmp_path: Path) -> None:
    inputs = shared_path("oracle", "sscx-dev4", "inputs.json")
    config = tmp_path / "sscx.json"
    data = json.loads(inputs.read_text())
    config.write_text(json.dumps({"files_metadata": data["files_metadata"]}))
    session = controller.read_json(config)
    session.data_root = inputs.parents[2]
    controller.set_session(session)


def test_excluding_a_file_under_idrest_excludes_it_under_step_and_the_tree_shows_it(
    qtbot: Any, controller: SessionController, preferences: Any, tmp_path: Path
) -> None:
    _sscx_session(controller, tmp_path)
    window = main_window(qtbot, controller, preferences)
    cell = "C060109A1-SR-C1"
    step = controller.dataset.entries(cell, "Step")
    file = step[0].get("filepath") or step[0].get("v_file")
    idrest = ExclusionKey(cell, "IDrest", file)
    assert not controller.is_excluded(ExclusionKey(cell, "Step", file))
    controller.set_excluded([idrest], True, "unstable access")
    assert controller.is_excluded(ExclusionKey(cell, "Step", file))
    assert (
        controller.session.exclusions.reason(ExclusionKey(cell, "Step", file))
        == "unstable access"
    )
    model = window.browser.model
    sweep = next(s for s in controller.dataset.sweeps(cell, "Step") if s.entry == 0)
    index = model.index_of_sweep(sweep)
    assert model.data(index, Qt.ItemDataRole.CheckStateRole) == Qt.CheckState.Unchecked
    kept, _ = _applied(controller)
    assert all(
        (e.get("filepath") or e.get("v_file")) != file
        for entries in kept[cell].values()
        for e in entries
    ), "the file is read under no protocol"
    controller.set_excluded([ExclusionKey(cell, "Step", file)], False)
    assert not controller.is_excluded(idrest), "included again everywhere"
    controller.undo_stack.undo()
    assert controller.is_excluded(idrest)
    assert controller.is_excluded(ExclusionKey(cell, "Step", file))


def _applied(controller: SessionController) -> Any:
    from efex_gui.core.session.exclusions import apply_exclusions

    return apply_exclusions(controller.session.files_metadata,
                            controller.session.exclusions)  # fmt: skip


def test_a_file_under_two_protocols_of_the_demo(
    controller: SessionController, demo_dir: Path, tmp_path: Path
) -> None:
    config = json.loads((demo_dir / "config.json").read_text())
    cell = next(iter(config["files_metadata"]))
    first = config["files_metadata"][cell]["IDRest"][0]
    config["files_metadata"][cell]["Step"] = [dict(first, protocol_name="IDRest")]
    path = tmp_path / "two.json"
    path.write_text(json.dumps(config))
    controller.set_session(controller.read_json(path))
    file = first.get("filepath") or first.get("v_file")
    controller.set_excluded([ExclusionKey(cell, "Step", file)], True, "drift")
    assert controller.is_excluded(ExclusionKey(cell, "IDRest", file))
    kwargs = controller.session.to_extract_kwargs()
    assert "Step" not in kwargs["files_metadata"].get(cell, {})
