"""The Cell curves dock after an exclusion: redraw of every cell vs of the one changed.

Draws ``--cells`` synthetic f-I and I-V curves (12 points each) in the real
:class:`~efex_gui.widgets.cell_plots.CellPlots` (offscreen), then times two redraws,
painting included: every cell's curve changed (what each exclusion cost before the
dock kept unchanged cells' items) and one cell's curve changed (an exclusion). Prints
one JSON document::

    {"cells": int, "all_changed_ms_median": float, "one_changed_ms_median": float,
     "ratio": float}

Asserts nothing; never run as a test.

Usage::

    QT_QPA_PLATFORM=offscreen python3 benchmarks/cell_curves_redraw.py --cells 44
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import numpy as np
from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QApplication

from efex_gui.core.analysis.curves import Curve, CurvePoint
from efex_gui.widgets.cell_plots import CellPlots


class _Selection(QObject):
    selection_changed = Signal(object)


class _Controller(QObject):
    summaries_changed = Signal()
    curve_cells_changed = Signal(object)

    def __init__(self, n_cells: int) -> None:
        super().__init__()
        self.sc = _Selection()
        self.curve_cells: list[str] = []
        self.rng = np.random.default_rng(0)
        self.data = {
            kind: [self.curve(i, kind) for i in range(n_cells)]
            for kind in ("fi", "iv_steady", "iv_peak")
        }

    def curve(self, cell: int, kind: str) -> Curve:
        amps = np.linspace(0.05, 0.6, 12)
        points = tuple(
            CurvePoint(float(a), float(self.rng.normal()), (cell, kind, j))
            for j, a in enumerate(amps)
        )
        return Curve(f"cell{cell}", kind, points)

    def curves(self, cells: list[str] | None = None) -> dict[str, list[Curve]]:
        return self.data

    def rheobases(self) -> dict[str, float | None]:
        return {}


def _timed(app: QApplication, plots: CellPlots) -> float:
    start = time.perf_counter()
    plots.draw_curves()
    app.processEvents()
    return (time.perf_counter() - start) * 1000.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cells", type=int, default=44)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    app = QApplication.instance() or QApplication([])
    controller = _Controller(args.cells)
    plots = CellPlots(controller)  # type: ignore[arg-type]
    plots.resize(900, 600)
    plots.show()
    _timed(app, plots)
    every, one = [], []
    for _ in range(args.repeat):
        for kind, curves in controller.data.items():
            curves[:] = [controller.curve(i, kind) for i in range(len(curves))]
        every.append(_timed(app, plots))
        controller.data["fi"][3] = controller.curve(3, "fi")
        one.append(_timed(app, plots))
    all_ms, one_ms = statistics.median(every), statistics.median(one)
    print(
        json.dumps(
            {
                "cells": args.cells,
                "all_changed_ms_median": round(all_ms, 1),
                "one_changed_ms_median": round(one_ms, 1),
                "ratio": round(one_ms / all_ms, 3),
            }
        )
    )


if __name__ == "__main__":
    main()
