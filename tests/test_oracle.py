"""Same inputs, same numbers: efex_gui.extract against BluePyEfe 2.3.63's outputs.

For every dataset in ../shared/data/oracle, run ``extract_efeatures`` on its
``inputs.json`` and compare the three JSON files with BluePyEfe's: the same keys in the
same order, every number within 1e-9 relative (NaN equals NaN). No deliberate
deviation from BluePyEfe changes these files (docs/compatibility.md).
"""

from __future__ import annotations

import json
import math
from typing import TYPE_CHECKING, Any

import pytest

from efex_gui.extract import extract_efeatures
from tests.conftest import shared_path

if TYPE_CHECKING:
    from pathlib import Path

OUTPUT_FILES = ("features.json", "protocols.json", "holding_threshold_currents.json")
PATH_KEYS = ("filepath", "i_file", "v_file")
REL_TOL = 1e-9

DATASETS = [
    pytest.param("bluepyefe-b6b8", marks=pytest.mark.shared),
    pytest.param("bluepyefe-b6b8-full", marks=pytest.mark.shared),
    pytest.param("nwb-hippocampus", marks=pytest.mark.shared),
    pytest.param("sscx-dev4", marks=[pytest.mark.shared, pytest.mark.slow]),
    pytest.param("sscx-dev4-autotiming", marks=[pytest.mark.shared, pytest.mark.slow]),
]


def load_inputs(dataset: str) -> dict[str, Any]:
    """The dataset's inputs.json with file paths made absolute under shared data."""
    folder = shared_path("oracle", dataset)
    root = folder.parent.parent
    inputs = json.loads((folder / "inputs.json").read_text())
    for protocols in inputs["files_metadata"].values():
        for entries in protocols.values():
            for entry in entries:
                for key in PATH_KEYS:
                    if key in entry:
                        entry[key] = str(root / entry[key])
    return inputs


def assert_same(ours: Any, theirs: Any, where: str = "") -> None:
    """Same structure, key order and values (numbers within REL_TOL, NaN == NaN)."""
    if isinstance(theirs, dict):
        assert isinstance(ours, dict), f"{where}: {type(ours).__name__} is not a dict"
        assert list(ours) == list(theirs), (
            f"{where}: keys {list(ours)} != {list(theirs)}"
        )
        for key in theirs:
            assert_same(ours[key], theirs[key], f"{where}/{key}")
    elif isinstance(theirs, list):
        assert isinstance(ours, list), f"{where}: {type(ours).__name__} is not a list"
        assert len(ours) == len(theirs), f"{where}: length {len(ours)} != {len(theirs)}"
        for i, (a, b) in enumerate(zip(ours, theirs, strict=True)):
            assert_same(a, b, f"{where}[{i}]")
    elif isinstance(theirs, bool) or theirs is None or isinstance(theirs, str):
        assert ours == theirs, f"{where}: {ours!r} != {theirs!r}"
        assert type(ours) is type(theirs), f"{where}: {ours!r} != {theirs!r}"
    elif isinstance(theirs, int | float):
        assert isinstance(ours, int | float), where
        assert not isinstance(ours, bool), where
        if math.isnan(theirs):
            assert math.isnan(ours), f"{where}: {ours} is not NaN"
        else:
            assert math.isclose(ours, theirs, rel_tol=REL_TOL), (
                f"{where}: {ours} != {theirs}"
            )
    else:
        raise AssertionError(f"{where}: unexpected {type(theirs).__name__}")


def run_dataset(dataset: str, output_directory: Path) -> None:
    """Run extract_efeatures as the oracle README says BluePyEfe was run."""
    inputs = load_inputs(dataset)
    files_metadata = inputs.pop("files_metadata")
    targets = inputs.pop("targets")
    extract_efeatures(
        output_directory=str(output_directory),
        files_metadata=files_metadata,
        targets=targets,
        write_files=True,
        **inputs,
    )


@pytest.mark.parametrize("dataset", DATASETS)
def test_same_outputs_as_bluepyefe(dataset: str, tmp_path: Path) -> None:
    run_dataset(dataset, tmp_path)
    folder = shared_path("oracle", dataset)
    for name in OUTPUT_FILES:
        theirs = json.loads((folder / name).read_text())
        ours = json.loads((tmp_path / name).read_text())
        assert_same(ours, theirs, f"{dataset}/{name}")


def test_comparison_is_strict() -> None:
    # The comparison itself must catch order, value and NaN differences.
    assert_same({"a": [1.0, float("nan")]}, {"a": [1.0, float("nan")]})
    for ours, theirs in [
        ({"b": 1, "a": 2}, {"a": 2, "b": 1}),
        ([1.0 + 1e-8], [1.0]),
        ([float("nan")], [1.0]),
        ([1.0], [float("nan")]),
        ([True], [1]),
        ({"a": [1]}, {"a": [1, 2]}),
    ]:
        with pytest.raises(AssertionError):
            assert_same(ours, theirs)
