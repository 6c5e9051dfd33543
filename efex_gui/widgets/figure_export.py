"""Export a plot as PNG or SVG (publication size) or copy it, with a provenance sidecar.

Every figure written gets ``<file>.provenance.json`` beside it: what the figure
shows (sweeps, cells), the display settings and the efex_gui version, so a figure
found later can be traced back (Synaptipy writes the same kind of note).
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyqtgraph as pg
import pyqtgraph.exporters as exporters
from PySide6.QtCore import QRectF, QSize
from PySide6.QtGui import QAction, QPainter
from PySide6.QtSvg import QSvgGenerator
from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget

from efex_gui import __version__
from efex_gui.core.atomic_files import atomic_write_text
from efex_gui.core.errors import SettingsError

__all__ = ["FIGURE_WIDTH_PX", "add_export_menu", "copy_figure", "export_figure"]

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
    generator.setTitle(target.stem)
    generator.setDescription("efex_gui figure")
    painter = QPainter(generator)
    try:
        item.scene().render(painter, QRectF(0, 0, rect.width(), rect.height()), rect)
    finally:
        painter.end()


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
