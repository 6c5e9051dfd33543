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


def _export(
    qtbot: Any, tmp_path: Path, x_range: tuple[float, float] = (0.1, 0.6)
) -> ElementTree.Element:
    widget = pg.PlotWidget(background="w")
    qtbot.addWidget(widget)
    widget.resize(900, 300)
    widget.plot(X, 10 * X, pen=pg.mkPen("r", width=1.5), symbol="o", symbolSize=8)
    widget.setXRange(*x_range, padding=0)
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


def _group(transform: str, body: str) -> str:
    return f'<g transform="matrix({transform})">{body}</g>'


def test_only_fixed_width_lines_under_a_matrix_are_flattened() -> None:
    """Qt's own output forms only: the rest keeps its matrix (drawn as before)."""
    from efex_gui.widgets.figure_export import flatten_strokes

    fixed = 'vector-effect="non-scaling-stroke"'
    groups = [
        _group("2,0,0,3,10,20", f'<polyline {fixed} points="0,0 1,1 "/>'),
        _group("2,0,0,3,10,20", f'<path {fixed} d="M0,0 L1,1 C1,2 2,2 2,1 Z"/>'),
        _group("2,0,0,-3,10,20", f'<rect {fixed} x="1" y="1" width="2" height="1"/>'),
        _group("2,0,0,3,10,20", f'<path {fixed} d="m0,0 l1,1"/>'),  # relative
        _group("0,1,-1,0,0,0", f'<rect {fixed} x="0" y="0" width="1" height="1"/>'),
        _group("2,0,0,3,0,0", '<polyline points="0,0 1,1"/>'),  # a scaling stroke
        _group("2,0,0,3,0,0", f'<polyline {fixed} points="0,0"/><text>a</text>'),
        _group("2,0,0,3,0,0", f'<rect {fixed} rx="1" width="1" height="1"/>'),
        _group("2,0,0,3,0,0", f'<path {fixed} fill="url(#g)" d="M0,0 L1,1"/>'),
    ]
    svg = f'<svg xmlns="http://www.w3.org/2000/svg">{"".join(groups)}</svg>'
    out = list(ElementTree.fromstring(flatten_strokes(svg)))
    flat, kept = out[:3], out[3:]
    assert all("transform" not in group.attrib for group in flat)
    assert flat[0][0].get("points") == "10,20 12,23"
    assert flat[1][0].get("d") == "M 10,20 L 12,23 C 12,26 14,26 14,23 Z"
    rect = flat[2][0]
    box = [rect.get(k) for k in ("x", "y", "width", "height")]
    assert box == ["12", "14", "4", "3"]  # y from -3 * (1 + 1) + 20 to -3 * 1 + 20
    assert all(group.get("transform") for group in kept), "left as Qt wrote them"
    assert kept[0][0].get("d") == "m0,0 l1,1"


def test_a_figure_qt_wrote_stays_when_its_lines_cannot_be_flattened(
    qtbot: Any, tmp_path: Path, monkeypatch: Any, caplog: Any
) -> None:
    from efex_gui.widgets import figure_export

    def broken(_svg: str, _clip: Any = None) -> str:
        raise ValueError("odd number of coordinates")

    monkeypatch.setattr(figure_export, "flatten_strokes", broken)
    root = _export(qtbot, tmp_path)
    assert list(root.iter(f"{SVG}polyline")), "Qt's drawing kept"
    assert "keep Qt's transforms" in caplog.text


def test_a_zoomed_plot_keeps_its_curves_inside_the_axes(
    qtbot: Any, tmp_path: Path
) -> None:
    """The SVG had no clipping: the curve beyond the view ran over the axes."""
    root = _export(qtbot, tmp_path, x_range=(0.25, 0.45))
    clips = {c.get("id"): c for c in root.iter(f"{SVG}clipPath")}
    curve = next(
        g
        for g in root.iter(f"{SVG}g")
        if g.get("stroke") == "#ff0000" and g.find(f"{SVG}polyline") is not None
    )
    found = re.fullmatch(r"url\(#(.+)\)", curve.get("clip-path", ""))
    assert found is not None, "the curve is clipped"
    box = clips[found.group(1)].find(f"{SVG}rect")
    assert box is not None
    left, width = float(box.get("x", 0)), float(box.get("width", 0))
    ticks = {
        (t.text or "").strip(): _translation(g)[0] + float(t.get("x", 0))
        for g in root.iter(f"{SVG}g")
        for t in g
        if t.tag == f"{SVG}text"
    }
    assert left < ticks["0.30"] < ticks["0.40"] < left + width, sorted(ticks)
    xs = [
        float(v)
        for line in curve.iter(f"{SVG}polyline")
        for v in re.split(r"[ ,]+", line.get("points", "").strip())[::2]
    ]
    assert min(xs) < left, "drawn beyond the view, clipped"
    assert max(xs) > left + width
