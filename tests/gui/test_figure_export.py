"""A figure exported as SVG draws what the plot shows, in any SVG reader.

Qt's SVG generator wrote the curves in data units under a matrix of scale 2000 with
``vector-effect="non-scaling-stroke"`` (readers that ignore it drew every line 2000
pixels thick: a black figure), the axes at 72 dpi (3/4 of the plot's scale: the
ticks did not match the data), and each scatter symbol as the whole pixmap atlas of
the symbols, squeezed (the SVG has no clipping).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any
from xml.etree import ElementTree

import numpy as np
import pyqtgraph as pg

from efex_gui.widgets.figure_export import export_figure

if TYPE_CHECKING:
    from pathlib import Path

SVG = "{http://www.w3.org/2000/svg}"
X = np.array([0.1, 0.2, 0.3, 0.4, 0.5, 0.6])


def _translation(group: ElementTree.Element) -> tuple[float, float]:
    """The group's offset; fails unless its matrix is a translation (or none)."""
    found = re.fullmatch(
        r"matrix\(([^)]*)\)", group.get("transform", "matrix(1,0,0,1,0,0)")
    )
    assert found is not None
    a, b, c, d, e, f = (float(v) for v in found.group(1).split(","))
    assert (a, b, c, d) == (1.0, 0.0, 0.0, 1.0), "drawn under a scaling matrix"
    return e, f


def _export(qtbot: Any, tmp_path: Path) -> ElementTree.Element:
    widget = pg.PlotWidget(background="w")
    qtbot.addWidget(widget)
    widget.resize(900, 300)
    widget.plot(X, 10 * X, pen=pg.mkPen("r", width=1.5), symbol="o", symbolSize=8)
    widget.setXRange(0.1, 0.6, padding=0)
    widget.show()
    qtbot.waitExposed(widget)
    path = export_figure(widget.getPlotItem(), tmp_path / "fi.svg", {})
    return ElementTree.fromstring(path.read_text(encoding="utf-8"))


def test_an_svg_figure_draws_curves_symbols_and_axes_as_the_plot(
    qtbot: Any, tmp_path: Path
) -> None:
    root = _export(qtbot, tmp_path)
    assert not list(root.iter(f"{SVG}image")), "symbols as vector shapes"
    curve_x: list[float] = []
    ticks: dict[str, float] = {}
    for group in root.iter(f"{SVG}g"):
        for element in group:
            if element.tag == f"{SVG}polyline" and group.get("stroke") == "#ff0000":
                e, _f = _translation(group)
                points = [
                    float(v)
                    for v in re.split(r"[ ,]+", element.get("points", "").strip())
                ]
                curve_x.extend(x + e for x in points[::2])
            elif element.tag == f"{SVG}text" and (element.text or "").strip():
                e, _f = _translation(group)
                ticks[element.text.strip()] = e + float(element.get("x", 0))
    width = float(root.get("viewBox", "0 0 1 1").split()[2])
    assert max(curve_x) - min(curve_x) > width / 2, "the curve in figure units"
    # the tick labels (left-aligned text) stand under their data points
    points = sorted(set(curve_x))
    assert len(points) == len(X)
    for label, point in (("0.2", points[1]), ("0.5", points[4])):
        assert abs(ticks[label] - point) < 30, (label, ticks[label], point)
