"""Target list checks made before a run (efex_gui.core.targets.check)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from efex_gui.core.targets.check import check_target_row, check_targets


@dataclass
class FakeRecording:
    """A sweep with BluePyEfe's in_target rule (strict <, relative or absolute)."""

    protocol_name: str
    amp: float
    amp_rel: float | None = None

    def matched_amplitude(self, absolute: bool) -> float | None:
        return self.amp if absolute else self.amp_rel

    def in_target(self, target: float, tolerance: float, absolute: bool) -> bool:
        amp = self.matched_amplitude(absolute)
        return bool(np.abs(target - amp) < tolerance)


@dataclass
class FakeCell:
    name: str
    rheobase: float | None
    recordings: list[Any] = field(default_factory=list)


def _cell(
    name: str, rheobase: float | None, amps_rel: list[float], protocol: str = "IDRest"
) -> FakeCell:
    rheo = rheobase or 0.1
    return FakeCell(
        name,
        rheobase,
        [
            FakeRecording(protocol, rheo * a / 100, a if rheobase else None)
            for a in amps_rel
        ],
    )


def _target(
    feature: str = "Spikecount",
    protocol: str = "IDRest",
    amplitude: float = 150,
    tolerance: float = 20,
    **extra: Any,
) -> dict:
    return {
        "efeature": feature,
        "protocol": protocol,
        "amplitude": amplitude,
        "tolerance": tolerance,
        **extra,
    }


def test_valid_row_has_no_problem() -> None:
    assert check_target_row(_target()) == []


def test_impossible_rows_are_named() -> None:
    assert "tolerance" in " ".join(check_target_row(_target(tolerance=0)))
    assert "tolerance" in " ".join(check_target_row(_target(tolerance=-5)))
    assert "amplitude" in " ".join(check_target_row(_target(amplitude="high")))
    assert "amplitude" in " ".join(check_target_row(_target(amplitude=float("nan"))))
    missing = {k: v for k, v in _target().items() if k != "protocol"}
    assert "'protocol' is missing" in " ".join(check_target_row(missing))
    assert check_target_row(_target(efel_settings=[1]))
    assert check_target_row("Spikecount")


def test_invalid_row_is_an_error_with_its_row() -> None:
    check = check_targets([_target(), _target(tolerance=-1)])
    assert check.has_errors
    assert [i.kind for i in check.issues_for(1)] == ["invalid"]
    assert check.issues_for(0) == []


def test_unknown_efel_feature_and_setting() -> None:
    check = check_targets(
        [
            _target(feature="Spikecountt"),
            _target(feature="mean_frequency", efel_settings={"Treshold": -10}),
        ]
    )
    assert check.worst_severity(0) == "error"
    assert "Spikecountt" in check.issues_for(0)[0].message
    assert [i.kind for i in check.issues_for(1)] == ["unknown_setting"]
    assert (
        check_targets(
            [_target(efel_settings={"Threshold": -10, "stim_start": 10})]
        ).issues
        == []
    )


def test_coverage_counts_sweeps_and_cells_within_tolerance() -> None:
    cells = [
        _cell("A", 0.1, [100, 147, 160, 171, 250]),  # 147, 160 within 150 ± 20
        _cell("B", 0.2, [150, 200]),
        _cell("C", None, [150]),  # no rheobase: skipped in relative mode
    ]
    check = check_targets([_target(), _target(amplitude=250)], cells)
    first, second = check.coverage
    assert (first.n_sweeps, first.cells) == (3, ("A", "B"))
    assert (second.n_sweeps, second.cells) == (1, ("A",))
    assert "single_value" in {i.kind for i in check.issues_for(1)}
    assert check.issues_for(0) == []


def test_match_is_strict() -> None:
    cells = [_cell("A", 0.1, [130, 170])]  # exactly on the window edges
    check = check_targets([_target()], cells)
    assert check.coverage[0].n_sweeps == 0
    assert [i.kind for i in check.issues] == ["unreachable"]


def test_absolute_mode_uses_amp_and_all_cells() -> None:
    cells = [_cell("A", None, [100, 150])]  # amps 0.1 and 0.15 nA
    check = check_targets(
        [_target(amplitude=0.15, tolerance=0.01)], cells, absolute_amplitude=True
    )
    assert check.coverage[0].n_sweeps == 1


def test_no_rheobase_anywhere_is_an_error() -> None:
    check = check_targets([_target()], [_cell("A", None, [150])])
    assert "no_rheobase" in check.kinds()
    assert "unreachable" not in check.kinds()


def test_unknown_protocol_suggests_case_variant() -> None:
    check = check_targets([_target(protocol="idrest")], [_cell("A", 0.1, [150])])
    (issue,) = check.issues
    assert issue.kind == "unknown_protocol"
    assert "'IDRest'" in issue.message


def test_below_threshold_nvalue_save() -> None:
    cells = [_cell("A", 0.1, [150, 155])]
    check = check_targets([_target()], cells, threshold_nvalue_save=3)
    assert [i.kind for i in check.issues] == ["below_threshold"]


def test_protocol_window_uses_first_rows_tolerance() -> None:
    cells = [_cell("A", 0.1, [150, 175])]
    targets = [_target(tolerance=10), _target(feature="mean_frequency", tolerance=30)]
    check = check_targets(targets, cells)
    # the second row's wider tolerance is ignored, as the grouping stage does
    assert [c.n_sweeps for c in check.coverage] == [1, 1]
    assert "tolerance_ignored" in {i.kind for i in check.issues_for(1)}


def test_overlapping_windows() -> None:
    check = check_targets(
        [_target(amplitude=150, tolerance=30), _target(amplitude=200, tolerance=25)]
    )
    (issue,) = [i for i in check.issues if i.kind == "overlap"]
    assert issue.rows == (0, 1)
    apart = check_targets(
        [_target(amplitude=150, tolerance=25), _target(amplitude=200, tolerance=25)]
    )
    assert "overlap" not in apart.kinds()
    other_protocol = check_targets(
        [_target(amplitude=150, tolerance=30), _target(protocol="IV", amplitude=160)]
    )
    assert "overlap" not in other_protocol.kinds()


def test_same_name_with_different_settings_collides() -> None:
    targets = [_target(), _target(amplitude=250, efel_settings={"Threshold": 0})]
    check = check_targets(targets)
    assert "name_collision" in check.kinds()
    named = [
        _target(),
        _target(
            amplitude=250, efel_settings={"Threshold": 0}, efeature_name="Spikecount_t0"
        ),
    ]
    assert "name_collision" not in check_targets(named).kinds()


def test_duplicate_rows() -> None:
    check = check_targets([_target(), _target(), _target(feature="AP_width")])
    (issue,) = [i for i in check.issues if i.kind == "duplicate"]
    assert issue.rows == (0, 1)


# --- reading and writing target lists (efex_gui.core.targets.files) -------------------


def test_target_files_in_both_forms(tmp_path: Any) -> None:
    import json

    import pytest

    from efex_gui.core.errors import TargetError
    from efex_gui.core.importing.legacy_formats import convert_legacy_targets
    from efex_gui.core.targets.files import (
        read_targets,
        targets_from_document,
        write_targets,
    )

    legacy = {
        "IDRest": {
            "amplitudes": [150, 200],
            "tolerances": [20],
            "efeatures": {"Spikecount": {"Threshold": -10.0}},
        }
    }
    assert targets_from_document(legacy) == convert_legacy_targets(legacy)
    as_list = [_target(), _target(feature="AP_width", efel_settings={})]
    assert targets_from_document(as_list) == as_list
    assert targets_from_document({"targets": legacy, "files_metadata": {}}) == (
        convert_legacy_targets(legacy)
    )
    path = write_targets(tmp_path / "t.json", as_list)
    assert read_targets(path) == as_list == json.loads(path.read_text())
    for bad in ({"targets": None}, {"x": 1}, [1, 2], "Spikecount"):
        with pytest.raises(TargetError):
            targets_from_document(bad, "bad.json")
    (tmp_path / "broken.json").write_text("[{")
    with pytest.raises(TargetError, match=r"broken\.json"):
        read_targets(tmp_path / "broken.json")


def test_legacy_form_round_trips_and_refuses_what_it_cannot_hold(tmp_path: Any) -> None:
    import json

    import pytest

    from efex_gui.core.errors import TargetError
    from efex_gui.core.importing.legacy_formats import convert_legacy_targets
    from efex_gui.core.targets.files import legacy_targets, read_targets, write_targets

    legacy = {
        "IDRest": {
            "amplitudes": [150, 200],
            "tolerances": [20, 10],
            "efeatures": {"Spikecount": {"Threshold": -10.0}, "AP_width": {}},
            "location": "soma",
        },
        "IV": {
            "amplitudes": [-40],
            "tolerances": [10],
            "efeatures": ["voltage_base"],
            "location": "soma",
        },
    }
    targets = convert_legacy_targets(legacy)
    assert legacy_targets(targets) == legacy
    path = write_targets(tmp_path / "legacy.json", targets, form="legacy")
    assert json.loads(path.read_text()) == legacy
    assert read_targets(path) == targets
    holes = [
        t
        for t in targets
        if not (t["amplitude"] == 200 and t["efeature"] == "AP_width")
    ]
    for bad, match in (
        (holes, "every feature at every amplitude"),
        ([{**targets[0], "efeature_name": "sc"}], "output name"),
        (
            [
                targets[0],
                {
                    **targets[1],
                    "efel_settings": {},
                    "efeature": "Spikecount",
                    "amplitude": 200,
                },
            ],
            "two efel settings",
        ),
        (
            [targets[0], {**targets[1], "tolerance": 5, "amplitude": 150}],
            "two tolerances",
        ),
    ):
        with pytest.raises(TargetError, match=match):
            write_targets(tmp_path / "bad.json", bad, form="legacy")
    assert not (tmp_path / "bad.json").exists()


def test_coverage_counts_what_in_target_matches_on_real_cells(demo_dir: Any) -> None:
    """All sweeps of a protocol at once give the per-sweep ``in_target`` counts."""
    import json

    from efex_gui.core.extraction.read_and_extract import read_with_rheobase
    from efex_gui.core.targets.coverage import coverage

    config = json.loads((demo_dir / "config.json").read_text())
    files_metadata = json.loads((demo_dir / "files_metadata.json").read_text())
    cells, _ = read_with_rheobase({**config, "files_metadata": files_metadata})
    assert all(cell.rheobase is not None for cell in cells)
    amplitudes = sorted({round(r.amp_rel) for c in cells for r in c.recordings})
    protocols = sorted({r.protocol_name for c in cells for r in c.recordings})
    windows = {
        (protocol, amplitude): (tolerance, [row])
        for row, (protocol, amplitude, tolerance) in enumerate(
            (p, a, t) for p in protocols for a in amplitudes for t in (10.0,)
        )
    }
    counted = coverage(windows, cells, False, len(windows))
    for (protocol, amplitude), (tolerance, [row]) in windows.items():
        matched = {
            cell.name: sum(
                r.in_target(amplitude, tolerance, False)
                for r in cell.recordings
                if r.protocol_name == protocol
            )
            for cell in cells
        }
        found = counted[row]
        assert found is not None
        assert found.n_sweeps == sum(matched.values())
        assert found.cells == tuple(name for name, n in matched.items() if n)
    assert sum(c.n_sweeps for c in counted if c is not None) > len(windows) // 2


def test_a_second_check_of_the_same_cells_reads_no_sweep_again() -> None:
    """Cells given back unchanged (the same objects) are not looked at again.

    After an exclusion the GUI checks 1 500 rows against 44 cells, of which one
    changed; a changed rheobase or another set of recordings is looked at again.
    """
    asked: list[FakeRecording] = []

    class Counted(FakeRecording):
        def matched_amplitude(self, absolute: bool) -> float | None:
            asked.append(self)
            return super().matched_amplitude(absolute)

    cells = [
        FakeCell(name, 0.1, [Counted("IDRest", 0.1 * a / 100, a) for a in amps])
        for name, amps in (("a", [100, 150, 152]), ("b", [148, 200]))
    ]
    targets = [_target(amplitude=150, tolerance=10), _target("AP_amplitude")]
    first = check_targets(targets, cells)
    assert len(asked) == 5
    assert first.coverage[0].n_sweeps == 3
    again = check_targets(targets, cells)
    assert len(asked) == 5
    assert again.coverage == first.coverage
    cells[1].recordings.pop()  # another set of recordings
    cells[0].rheobase = 0.2  # and another rheobase
    check_targets(targets, cells)
    assert len(asked) == 5 + 3 + 1


def test_a_target_row_changed_in_place_is_checked_again() -> None:
    """The rows' checks are reused only while the rows are equal to the last ones."""
    cells = [_cell("A", 0.1, [100, 150])]
    targets = [_target(amplitude=150, tolerance=10)]
    assert check_targets(targets, cells).coverage[0].n_sweeps == 1
    targets[0]["amplitude"] = 300  # the editor changes the row in place
    check = check_targets(targets, cells)
    assert check.coverage[0].n_sweeps == 0
    assert [i.kind for i in check.issues] == ["unreachable"]
    targets[0]["efeature"] = "no_such_feature"
    assert "unknown_feature" in {i.kind for i in check_targets(targets).issues}


def test_a_cells_amplitudes_are_kept_with_a_few_bytes_a_sweep() -> None:
    """The memo of a cell's amplitudes is reused while its recordings are the same."""
    from efex_gui.core.targets.coverage import _CellAmplitudes
    from tests.conftest import held_bytes

    amplitudes = _CellAmplitudes()
    cell = _cell("big", 0.1, [100.0 + i / 10 for i in range(2000)])
    found = amplitudes.of(cell, False)
    assert amplitudes.of(cell, False) is found, "reused: the same recordings"
    (entry,) = amplitudes._memo.values()
    key = entry[1]
    assert held_bytes(key) / len(cell.recordings) < 12  # 40 B as a list of ints
    cell.recordings[7] = FakeRecording("IDRest", 0.2, 200.0)
    changed = amplitudes.of(cell, False)
    assert changed is not found
    assert 200.0 in changed[0][1]
