"""Fixtures of the reliability tests: a small synthetic dataset written once."""

from __future__ import annotations

import copy
import json
from typing import TYPE_CHECKING, Any

import pytest

from efex_gui.core.synthetic.demo import demo_targets

if TYPE_CHECKING:
    from pathlib import Path

#: a few targets, enough to exercise reading, rheobase, features and export
TARGETS = [t for t in demo_targets() if t["efeature"] in ("Spikecount", "AP_amplitude")]


@pytest.fixture(scope="session")
def demo_dataset(demo_dir: Path) -> dict[str, Any]:
    """Two simulated cells ``SimCell1`` and ``SimCell2`` as NWB files (never edited)."""
    files_metadata: dict[str, Any] = json.loads(
        (demo_dir / "files_metadata.json").read_text(encoding="utf-8")
    )
    return files_metadata


@pytest.fixture
def files_metadata(demo_dataset: dict[str, Any]) -> dict[str, Any]:
    """A fresh copy of the demo files_metadata (the pipeline mutates it)."""
    return copy.deepcopy(demo_dataset)


def extraction_kwargs(**extra: Any) -> dict[str, Any]:
    """The settings of the demo's config.json, with ``extra`` on top."""
    kwargs: dict[str, Any] = {
        "targets": copy.deepcopy(TARGETS),
        "protocols_rheobase": ["IDthresh", "IDRest"],
        "efel_settings": {
            "strict_stiminterval": True,
            "Threshold": -20.0,
            "interp_step": 0.025,
        },
    }
    kwargs.update(extra)
    return kwargs


def provenance(folder: Path) -> dict[str, Any]:
    """The ``efex_provenance.json`` of a run."""
    return json.loads((folder / "efex_provenance.json").read_text(encoding="utf-8"))
