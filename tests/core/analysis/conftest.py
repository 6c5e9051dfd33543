"""Fixtures of the cell-analysis tests: simulated cells whose parameters are known."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

import pytest

from efex_gui.core.analysis.summary_io import summarize_run
from efex_gui.core.synthetic.demo import (
    DEMO_PROTOCOLS,
    demo_cell_parameters,
    demo_files_metadata,
    simulate_cells,
)
from efex_gui.core.synthetic.nwb_writer import write_nwb

if TYPE_CHECKING:
    from pathlib import Path

    from efex_gui.core.analysis.cell_summary import CellSummary

#: the demo dataset's efel settings (efex_gui.core.synthetic.demo.write_demo_dataset)
DEMO_EFEL_SETTINGS = {
    "strict_stiminterval": True,
    "Threshold": -20.0,
    "interp_step": 0.025,
}


class Simulated:
    """Simulated cells (their parameters and sweeps) and their summaries."""

    def __init__(self, sims: list[dict[str, Any]], folder: Path, **kwargs: Any):
        self.sims = {sim["name"]: sim for sim in sims}
        paths = {
            sim["name"]: write_nwb(sim, folder / f"{sim['name']}.nwb") for sim in sims
        }
        protocols = kwargs.pop("protocols", DEMO_PROTOCOLS)
        self.kwargs = {
            "files_metadata": demo_files_metadata(paths, protocols),
            "efel_settings": dict(DEMO_EFEL_SETTINGS),
            "protocols_rheobase": ["IDthresh", "IDRest"],
            **kwargs,
        }
        summaries, cells = summarize_run(self.kwargs)
        self.summaries: dict[str, CellSummary] = {s.cell: s for s in summaries}
        self.cells = {c.name: c for c in cells}


@pytest.fixture(scope="package")
def demo_cells(
    tmp_path_factory: pytest.TempPathFactory, demo_sims: list[dict[str, Any]]
) -> Simulated:
    """The two demo cells (seed 0, simulated once a run), all demo protocols."""
    return Simulated(demo_sims, tmp_path_factory.mktemp("demo_cells"))


@pytest.fixture(scope="package")
def passive_cell(tmp_path_factory: pytest.TempPathFactory) -> Simulated:
    """A demo cell without M- and h-current and without sodium: an RC membrane."""
    base = demo_cell_parameters(1, seed=3)[0]
    params = replace(base, name="Passive", g_m_us=0.0, g_h_us=0.0, g_na_us=0.0)
    iv = next(p for p in DEMO_PROTOCOLS if p.name == "IV")
    sims = simulate_cells([params], [[3, 0, 1]], protocols=(iv,))
    return Simulated(
        sims,
        tmp_path_factory.mktemp("passive"),
        protocols=(iv,),
        protocols_rheobase=["IV"],
    )
