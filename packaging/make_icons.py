"""Render the application icon set from ``resources/icons/app.svg``.

Writes ``resources/icons/app-<N>.png`` (N = 16 ... 512), ``app.ico`` (Windows) and
``app.icns`` (macOS). Run it after editing the SVG::

    QT_QPA_PLATFORM=offscreen python3 packaging/make_icons.py

The PNGs are rendered by Qt's SVG renderer (the one the app uses for the window
icon); the ``.ico``/``.icns`` containers are written by Pillow from those PNGs.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

SIZES = (16, 24, 32, 48, 64, 128, 256, 512)
ICONS = Path(__file__).resolve().parents[1] / "resources" / "icons"


def render_png(svg: Path, size: int, out: Path) -> None:
    """Render ``svg`` to a ``size`` x ``size`` PNG with a transparent background."""
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    renderer = QSvgRenderer(str(svg))
    if not renderer.isValid():
        raise ValueError(f"{svg}: not a valid SVG")
    image = QImage(size, size, QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    renderer.render(painter)
    painter.end()
    if not image.save(str(out)):
        raise OSError(f"could not write {out}")


def write_containers(folder: Path) -> None:
    """Write ``app.ico`` and ``app.icns`` from the rendered PNGs (needs Pillow)."""
    from PIL import Image

    images = {size: Image.open(folder / f"app-{size}.png") for size in SIZES}
    biggest = images[max(SIZES)]
    small = [images[s] for s in SIZES if s <= 256]
    biggest.save(
        folder / "app.ico",
        sizes=[im.size for im in small],
        append_images=small,
    )
    biggest.save(folder / "app.icns", append_images=list(images.values()))


def main(argv: list[str] | None = None) -> int:
    """Render every size and the containers; returns the exit code."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folder", type=Path, default=ICONS)
    args = parser.parse_args(argv)
    from PySide6.QtGui import QGuiApplication

    app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])  # noqa: F841
    svg = args.folder / "app.svg"
    for size in SIZES:
        render_png(svg, size, args.folder / f"app-{size}.png")
    write_containers(args.folder)
    print(f"icons written to {args.folder}")  # noqa: T201
    return 0


if __name__ == "__main__":
    sys.exit(main())
