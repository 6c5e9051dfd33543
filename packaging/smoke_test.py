"""Smoke test of a built ``efex-gui`` bundle (or any ``efex-gui`` executable).

Starts the executable offscreen with ``--demo --screenshot`` in a throw-away home
folder, then checks that the PNG shows a real window (size, many colours, no single
colour covering almost everything), and that ``efex-gui cli --version`` answers::

    python3 packaging/smoke_test.py dist/efex-gui            # the bundle folder
    python3 packaging/smoke_test.py /path/to/bin/efex-gui    # an installed script

Exit code 0 when both pass. ``tests/test_packaging.py`` uses :func:`check_png`.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

MIN_SIZE = (800, 500)
MIN_COLOURS = 40
MAX_DOMINANT = 0.9


def executable(target: Path) -> Path:
    """The program to run: ``target``, or the executable inside a bundle folder."""
    if target.is_dir():
        for name in ("efex-gui", "efex-gui.exe", "Contents/MacOS/efex-gui"):
            if (target / name).is_file():
                return target / name
        raise FileNotFoundError(f"no efex-gui executable in {target}")
    return target


def check_png(path: Path) -> list[str]:
    """Problems with a screenshot (an empty list when it looks like a real window)."""
    from PIL import Image

    if not path.is_file() or path.stat().st_size == 0:
        return [f"{path}: no PNG written"]
    with Image.open(path) as image:
        rgb = image.convert("RGB")
    problems = []
    if rgb.width < MIN_SIZE[0] or rgb.height < MIN_SIZE[1]:
        problems.append(f"{path}: {rgb.width}x{rgb.height} is smaller than {MIN_SIZE}")
    pixels = rgb.width * rgb.height
    counts = rgb.getcolors(maxcolors=pixels) or []  # [(count, colour), ...]
    if len(counts) < MIN_COLOURS:
        problems.append(f"{path}: only {len(counts)} colours")
    dominant = max(counts)[0] / pixels
    if dominant > MAX_DOMINANT:
        problems.append(f"{path}: one colour covers {dominant:.0%} of the image")
    return problems


def offscreen_env(home: Path) -> dict[str, str]:
    """Environment for a headless run whose settings and demo data stay in ``home``."""
    env = dict(os.environ)
    env.update(
        QT_QPA_PLATFORM="offscreen",
        HOME=str(home),
        USERPROFILE=str(home),
        XDG_DATA_HOME=str(home / "data"),
        XDG_CONFIG_HOME=str(home / "config"),
        XDG_CACHE_HOME=str(home / "cache"),
    )
    return env


def run_screenshot(program: Path, png: Path, timeout_s: float = 600) -> None:
    """Run ``program --demo --screenshot png`` offscreen; raise when it fails."""
    with tempfile.TemporaryDirectory(prefix="efex-smoke-home-") as home:
        result = subprocess.run(
            [str(program), "--demo", "--no-restore", "--screenshot", str(png)],
            env=offscreen_env(Path(home)),
            capture_output=True,
            text=True,
            timeout=timeout_s,
        )
    if result.returncode != 0:
        raise RuntimeError(
            f"{program} exited with {result.returncode}\n{result.stderr[-3000:]}"
        )


def check_cli(program: Path, home: Path) -> list[str]:
    """Problems with ``program cli --version`` (the bundled command line)."""
    result = subprocess.run(
        [str(program), "cli", "--version"],
        capture_output=True,
        text=True,
        timeout=300,
        env=offscreen_env(home),
    )
    if result.returncode != 0 or "efex" not in result.stdout:
        return [f"`{program} cli --version`: {result.returncode} {result.stdout!r}"]
    return []


def main(argv: list[str] | None = None) -> int:
    """Run the smoke test; returns the exit code."""
    parser = argparse.ArgumentParser(description="Smoke-test an efex-gui bundle.")
    parser.add_argument("target", type=Path, help="bundle folder or executable")
    parser.add_argument("--png", type=Path, help="keep the screenshot here")
    args = parser.parse_args(argv)
    program = executable(args.target)
    with tempfile.TemporaryDirectory(prefix="efex-smoke-") as tmp:
        png = args.png or Path(tmp) / "screenshot.png"
        run_screenshot(program, png)
        problems = check_png(png)
        if args.target.is_dir():  # a bundle: its executable also runs the CLI
            problems += check_cli(program, Path(tmp))
    for problem in problems:
        print(f"FAIL {problem}", file=sys.stderr)  # noqa: T201
    if not problems:
        print(f"smoke test passed: {program}")  # noqa: T201
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
