"""Export a plot as PNG or SVG (publication size) or copy it, with a provenance sidecar.

Every figure written gets ``<file>.provenance.json`` beside it: what the figure
shows (sweeps, cells), the display settings and the efex_gui version, so a figure
found later can be traced back (Synaptipy writes the same kind of note).
"""

from __future__ import annotations

import datetime
import json
import logging
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pyqtgraph as pg
import pyqtgraph.exporters as exporters
from pyqtgraph.exporters.Exporter import Exporter
from PySide6.QtCore import QRectF, QSize
from PySide6.QtGui import QAction, QPainter
from PySide6.QtSvg import QSvgGenerator
from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget

from efex_gui import __version__
from efex_gui.core.atomic_files import atomic_write_text
from efex_gui.core.errors import SettingsError

logger = logging.getLogger(__name__)

__all__ = [
    "FIGURE_WIDTH_PX",
    "add_export_menu",
    "copy_figure",
    "export_figure",
    "flatten_strokes",
]

#: PNG width: 7 inches at 300 dpi (a two-column journal figure)
FIGURE_WIDTH_PX = 2100
FIGURE_FILTER = "PNG image (*.png);;SVG drawing (*.svg)"

#: what a figure shows: a JSON-ready dict (sweeps, cells, display settings)
Provenance = Callable[[], dict[str, Any]]


def _sidecar(path: Path, provenance: dict[str, Any]) -> Path:
    sidecar = path.with_name(path.name + ".provenance.json")
    document = {
        "figure": path.name,
        "created": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "efex_gui_version": __version__,
        **provenance,
    }
    atomic_write_text(sidecar, json.dumps(document, indent=2, default=str) + "\n")
    return sidecar


def export_figure(
    item: pg.GraphicsObject, path: str | Path, provenance: dict[str, Any]
) -> Path:
    """Write ``item`` (a PlotItem or a layout) as PNG or SVG plus its sidecar.

    Raises
    ------
    SettingsError
        A suffix other than ``.png`` or ``.svg``.
    """
    target = Path(path)
    suffix = target.suffix.lower()
    if suffix == ".png":
        exporter = exporters.ImageExporter(item)
        exporter.parameters()["width"] = FIGURE_WIDTH_PX
        exporter.parameters()["antialias"] = True
        exporter.export(str(target))
    elif suffix == ".svg":
        _write_svg(item, target)
    else:
        raise SettingsError(f"{target}: a figure is written as .png or .svg")
    _sidecar(target, provenance)
    return target


def _write_svg(item: pg.GraphicsObject, target: Path) -> None:
    """Render ``item``'s part of the scene into an SVG file.

    Qt's own SVG generator: pyqtgraph's SVGExporter fails on the paths of scatter
    and error-bar items under Qt 6 (``x,y = c.split(',')``).
    """
    rect = item.sceneBoundingRect()
    generator = QSvgGenerator()
    generator.setFileName(str(target))
    generator.setSize(QSize(int(rect.width()), int(rect.height())))
    generator.setViewBox(QRectF(0, 0, rect.width(), rect.height()))
    # the screen's: at the generator's default 72 dpi the axes drew at 3/4 scale
    generator.setResolution(_screen_dpi(item))
    generator.setTitle(target.stem)
    generator.setDescription("efex_gui figure")
    painter = QPainter(generator)
    # export mode: scatter symbols drawn as shapes, not cut from a pixmap atlas
    # (the SVG has no clipping: every point showed the whole atlas squeezed)
    items = Exporter(item)
    items.setExportMode(True, {"antialias": True, "painter": painter})
    try:
        item.scene().render(painter, QRectF(0, 0, rect.width(), rect.height()), rect)
    finally:
        items.setExportMode(False)
        painter.end()
    text = target.read_text(encoding="utf-8")
    try:
        flat = flatten_strokes(text, _view_rect(item, rect))
    except (ValueError, ElementTree.ParseError) as exc:  # Qt's file stays as written
        logger.warning("%s: the lines keep Qt's transforms (%s)", target, exc)
        return
    target.write_text(flat, encoding="utf-8")


def _view_rect(item: pg.GraphicsObject, figure: QRectF) -> QRectF | None:
    """Return the data area of ``item``'s plot in the figure (None: not one plot).

    Qt's SVG has no clipping: a curve beyond the view range (a zoomed plot) was
    drawn over the axes.
    """
    views = [item] if isinstance(item, pg.ViewBox) else []
    if not views and item.scene() is not None:
        views = [
            child
            for child in item.scene().items()
            if isinstance(child, pg.ViewBox) and item.isAncestorOf(child)
        ]
    if len(views) != 1:
        return None
    return QRectF(views[0].sceneBoundingRect().translated(-figure.topLeft()))


def _screen_dpi(item: pg.GraphicsObject) -> int:
    """Return the logical dots per inch of the view showing ``item`` (96 if none)."""
    views = item.scene().views() if item.scene() is not None else []
    return int(round(views[0].logicalDpiX())) if views else 96


_SVG = "http://www.w3.org/2000/svg"
_CLIP_ID = "efex-data-area"
_SHAPES = {f"{{{_SVG}}}{name}" for name in ("polyline", "polygon", "path", "rect")}
_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_MATRIX = re.compile(rf"\s*matrix\(\s*((?:{_NUMBER}[\s,]*){{6}})\)\s*")
_PATH_TOKEN = re.compile(rf"[A-Za-z]|{_NUMBER}")
_Matrix = tuple[float, float, float, float, float, float]


def flatten_strokes(svg: str, clip: QRectF | None = None) -> str:
    """Draw the lines of an SVG written by Qt in the figure's own coordinates.

    Qt writes a plot's curves in data units inside a group whose matrix maps them
    to the figure (a scale of 2000 on one axis, 40 on the other), with
    ``vector-effect="non-scaling-stroke"`` to keep the pen's width. Renderers that
    ignore that attribute (Illustrator, librsvg before 2.57) drew every line 2000
    pixels thick: a black figure. Each such group's matrix is applied here to the
    points of its lines and shapes, and dropped; groups holding anything else
    (text, images) or a stroke that scales are left as they are. ``clip``: the data
    area, to which the groups drawn in data units (a matrix that scales) are clipped.
    """
    ElementTree.register_namespace("", _SVG)
    ElementTree.register_namespace("xlink", "http://www.w3.org/1999/xlink")
    root = ElementTree.fromstring(svg)
    clipped = False
    for group in root.iter(f"{{{_SVG}}}g"):
        found = _MATRIX.fullmatch(group.get("transform", ""))
        children = list(group)
        if found is None or not children:
            continue
        values = [float(v) for v in re.findall(_NUMBER, found.group(1))]
        matrix: _Matrix = (
            values[0], values[1], values[2], values[3], values[4], values[5]
        )  # fmt: skip
        if matrix == (1.0, 0.0, 0.0, 1.0, 0.0, 0.0):
            continue
        if "url(" in group.get("fill", "") + group.get("stroke", ""):
            continue
        if all(_cosmetic_shape(child, matrix) for child in children):
            for child in children:
                _apply(child, matrix)
            del group.attrib["transform"]
            if clip is not None and matrix[:4] != (1.0, 0.0, 0.0, 1.0):
                group.set("clip-path", f"url(#{_CLIP_ID})")
                clipped = True
    if clipped and clip is not None:
        _add_clip(root, clip)
    return '<?xml version="1.0" encoding="UTF-8" standalone="no"?>\n' + (
        ElementTree.tostring(root, encoding="unicode")
    )


def _add_clip(root: ElementTree.Element, clip: QRectF) -> None:
    """Define the data area's clip path (in the figure's units) in ``<defs>``."""
    defs = root.find(f"{{{_SVG}}}defs")
    if defs is None:
        defs = ElementTree.Element(f"{{{_SVG}}}defs")
        root.insert(0, defs)
    path = ElementTree.SubElement(defs, f"{{{_SVG}}}clipPath", id=_CLIP_ID)
    box = {"x": clip.x(), "y": clip.y(), "width": clip.width(), "height": clip.height()}
    ElementTree.SubElement(
        path, f"{{{_SVG}}}rect", {k: f"{v:.7g}" for k, v in box.items()}
    )
    root.attrib.pop("baseProfile", None)  # clipping is not in SVG Tiny


def _cosmetic_shape(element: ElementTree.Element, matrix: _Matrix) -> bool:
    """Whether ``element`` is a line or shape drawn with a pen of fixed width.

    Gradients and patterns (``url(...)``) are in the group's units: left alone.
    """
    if element.tag not in _SHAPES or len(element):
        return False
    if element.get("vector-effect") != "non-scaling-stroke":
        return False
    if any("url(" in element.get(name, "") for name in ("fill", "stroke")):
        return False
    if element.tag.endswith("}rect"):  # a rect stays one only under a plain scale
        return matrix[1] == matrix[2] == 0.0 and not (
            element.get("rx") or element.get("ry")
        )
    if element.tag.endswith("}path"):  # Qt writes absolute M, L, C and Z only
        return all(
            token in "MLCZ" or not token.isalpha()
            for token in _PATH_TOKEN.findall(element.get("d", ""))
        )
    return True


def _point(matrix: _Matrix, x: float, y: float) -> str:
    a, b, c, d, e, f = matrix
    return f"{a * x + c * y + e:.7g},{b * x + d * y + f:.7g}"


def _apply(element: ElementTree.Element, matrix: _Matrix) -> None:
    """Give ``element`` its points in the group's parent coordinates."""
    if element.tag.endswith("}rect"):
        a, _, _, d, e, f = matrix
        x, y = float(element.get("x", 0)), float(element.get("y", 0))
        width, height = float(element.get("width", 0)), float(element.get("height", 0))
        xs, ys = (a * x + e, a * (x + width) + e), (d * y + f, d * (y + height) + f)
        for name, value in (
            ("x", min(xs)), ("y", min(ys)),
            ("width", abs(xs[1] - xs[0])), ("height", abs(ys[1] - ys[0])),
        ):  # fmt: skip
            element.set(name, f"{value:.7g}")
    elif element.tag.endswith("}path"):
        out, numbers = [], []
        for token in _PATH_TOKEN.findall(element.get("d", "")):
            if token.isalpha():
                out.append(token)
            else:
                numbers.append(float(token))
                if len(numbers) == 2:
                    out.append(_point(matrix, *numbers))
                    numbers = []
        element.set("d", " ".join(out))
    else:
        values = [float(v) for v in re.findall(_NUMBER, element.get("points", ""))]
        pairs = zip(values[::2], values[1::2], strict=True)
        element.set("points", " ".join(_point(matrix, x, y) for x, y in pairs))


def copy_figure(item: pg.GraphicsObject) -> None:
    """Put ``item`` on the clipboard as an image (publication width)."""
    exporter = exporters.ImageExporter(item)
    exporter.parameters()["width"] = FIGURE_WIDTH_PX
    exporter.export(copy=True)


def export_dialog(
    parent: QWidget, item: pg.GraphicsObject, provenance: Provenance, name: str
) -> Path | None:
    """Ask for a PNG/SVG file and export ``item`` there."""
    path, chosen = QFileDialog.getSaveFileName(
        parent, "Export figure", f"{name}.png", FIGURE_FILTER
    )
    if not path:
        return None
    if Path(path).suffix.lower() not in (".png", ".svg"):
        path += ".svg" if "svg" in chosen.lower() else ".png"
    try:
        return export_figure(item, path, provenance())
    except Exception as exc:  # shown to the user, the app goes on
        QMessageBox.warning(parent, "Cannot export the figure", str(exc))
        return None


def figure_actions(
    parent: QWidget, item: pg.GraphicsObject, provenance: Provenance, name: str
) -> list[QAction]:
    """Make the "Export figure (PNG/SVG)…" and "Copy figure" actions for ``item``."""
    export = QAction("Export figure (PNG/SVG)…", parent)
    export.triggered.connect(lambda: export_dialog(parent, item, provenance, name))
    copy = QAction("Copy figure", parent)
    copy.triggered.connect(lambda: copy_figure(item))
    return [export, copy]


def add_export_menu(
    parent: QWidget,
    plot: pg.PlotItem,
    provenance: Provenance,
    name: str,
    item: pg.GraphicsObject | None = None,
) -> list[QAction]:
    """Add the figure actions to ``plot``'s right-click menu; returns them.

    ``item`` is what is exported (default: ``plot``; a layout exports every plot).
    """
    actions = figure_actions(parent, item or plot, provenance, name)
    menu = plot.getViewBox().menu
    menu.addSeparator()
    for action in actions:
        menu.addAction(action)
    return actions
