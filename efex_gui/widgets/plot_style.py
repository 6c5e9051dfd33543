"""The look shared by the extraction's plots: white background, colours, markers."""

from __future__ import annotations

import pyqtgraph as pg

__all__ = ["COLORS", "SYMBOLS", "SYMBOL_TEXT", "TEXT_COLOR", "style_plot"]

COLORS = [
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
    "#bcbd22",
    "#17becf",
]
SYMBOLS = ["o", "t", "t1", "s", "star", "d", "x"]
#: the same markers as text, for the legend line above the plot
SYMBOL_TEXT = {"o": "●", "t": "▼", "t1": "▲", "s": "■", "star": "★", "d": "◆", "x": "✕"}
TEXT_COLOR = "#202020"


def style_plot(plot: pg.PlotWidget) -> None:
    """White background, dark axes and labels, no SI prefixes (units are in labels)."""
    plot.setBackground("w")
    plot.showGrid(x=True, y=True, alpha=0.3)
    for side in ("bottom", "left"):
        axis = plot.getAxis(side)
        axis.enableAutoSIPrefix(False)
        axis.setPen(pg.mkPen("#505050"))
        axis.setTextPen(pg.mkPen(TEXT_COLOR))
