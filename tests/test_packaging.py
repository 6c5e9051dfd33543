"""Packaging: the wheel carries resources/ and installs; the app bundle (opt-in) runs.

The wheel is built once per module (``pip wheel --no-deps``), installed into a fresh
virtual environment that sees this interpreter's packages wherever they live (a
``.pth`` naming the folders of this interpreter's ``sys.path``, so it works from a
venv, a user site or ``PYTHONPATH`` too, and Qt is not downloaded again), and used
from a folder outside the checkout.

The PyInstaller bundle takes minutes to build: its smoke test runs only when
``EFEX_TEST_BUNDLE=1`` (building it) or ``EFEX_BUNDLE_DIR=dist/efex-gui`` (a bundle
built by ``packaging/build_bundle.sh``) is set.
"""

from __future__ import annotations

import argparse
import configparser
import importlib.util
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from collections.abc import Iterator
    from types import ModuleType

ROOT = Path(__file__).resolve().parents[1]
RESOURCES = ROOT / "resources"
ICON_SIZES = (16, 24, 32, 48, 64, 128, 256, 512)


def _smoke_module() -> ModuleType:
    """``packaging/smoke_test.py`` (not a package, so loaded from its path)."""
    spec = importlib.util.spec_from_file_location(
        "efex_smoke_test", ROOT / "packaging" / "smoke_test.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _clean_env(**extra: str) -> dict[str, str]:
    """The environment without anything that would put the checkout on sys.path."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    env.update(extra)
    return env


def _run(cmd: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        cmd, cwd=cwd, env=_clean_env(**env), capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, (
        f"{' '.join(cmd)} failed ({result.returncode}):\n"
        f"{result.stdout[-2000:]}\n{result.stderr[-3000:]}"
    )
    return result


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project's wheel, built from the checkout."""
    out = tmp_path_factory.mktemp("wheel")
    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), "."],
        cwd=ROOT,
        env=_clean_env(),
        capture_output=True,
        text=True,
        timeout=600,
    )
    if (
        result.returncode != 0
        and "hatchling" in result.stderr
        and (
            "No matching distribution" in result.stderr or "connection" in result.stderr
        )
    ):
        pytest.skip(
            f"cannot fetch the build backend (hatchling): {result.stderr[-300:]}"
        )
    assert result.returncode == 0, result.stderr[-3000:]
    (found,) = out.glob("efex_gui-*.whl")
    return found


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv (seeing this interpreter's packages) with the wheel installed."""
    env_dir = tmp_path_factory.mktemp("venv")
    # no ensurepip (seconds): the pip of the packages this venv sees installs the wheel
    venv.create(env_dir, with_pip=False, symlinks=True)
    python = _venv_bin(env_dir, "python")
    _see_these_packages(python, env_dir)
    # --no-index: every dependency must already be satisfied (nothing is downloaded);
    # --force-reinstall: an editable install of the checkout may be visible already.
    _run(
        [
            str(python),
            "-m",
            "pip",
            "install",
            "-q",
            "--no-index",
            "--no-deps",
            "--force-reinstall",
            str(wheel),
        ],
        cwd=env_dir,
    )
    return env_dir


def _see_these_packages(python: Path, env_dir: Path) -> None:
    """Let the new venv import the dependencies this interpreter imports.

    Wherever they live: the base interpreter's or a virtual environment's
    site-packages (the README's instructions), the user site, ``PYTHONPATH`` (which
    the subprocesses do not inherit), a folder a ``.pth`` file added. A ``.pth`` file
    in the new venv lists every folder of this interpreter's ``sys.path`` except the
    standard library (the venv has its own) and any folder holding an ``efex_gui``
    package (the checkout, an editable install), so only the installed wheel can be
    imported as ``efex_gui``. The folders come after the venv's own site-packages,
    and ``.pth`` files inside them are not run.
    """
    stdlib = [
        Path(sysconfig.get_path(name)).resolve() for name in ("stdlib", "platstdlib")
    ]
    result = _run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
        cwd=env_dir,
    )
    own = Path(result.stdout.strip())
    folders = dict.fromkeys(
        str(folder)
        for folder in (Path(p).resolve() for p in sys.path if p)
        if folder.is_dir()
        and folder != own.resolve()
        and not any(_in_stdlib(folder, lib) for lib in stdlib)
        and not (folder / "efex_gui" / "__init__.py").is_file()
    )
    (own / "_efex_test_outer_packages.pth").write_text(
        "\n".join(folders) + "\n", encoding="utf-8"
    )


def _in_stdlib(folder: Path, lib: Path) -> bool:
    """Whether ``folder`` is the standard library ``lib`` or in it (not its
    site-packages, which a base interpreter keeps inside it).
    """
    if not folder.is_relative_to(lib):
        return False
    parts = folder.relative_to(lib).parts
    return not {"site-packages", "dist-packages"} & set(parts)


def _venv_bin(env_dir: Path, name: str) -> Path:
    folder = env_dir / ("Scripts" if sys.platform.startswith("win") else "bin")
    suffix = ".exe" if sys.platform.startswith("win") else ""
    return folder / f"{name}{suffix}"


def _resource_files() -> list[str]:
    return sorted(
        p.relative_to(RESOURCES).as_posix()
        for p in RESOURCES.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    )


@pytest.mark.slow
def test_wheel_holds_every_resource_file_and_both_commands(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        (entry_points,) = [
            n for n in names if n.endswith(".dist-info/entry_points.txt")
        ]
        scripts = zf.read(entry_points).decode()
    missing = [
        f for f in _resource_files() if f"efex_gui/resources_data/{f}" not in names
    ]
    assert not missing, f"resources missing from {wheel.name}: {missing}"
    assert "efex_gui/app/main.py" in names
    assert "efex_gui/core/features.py" in names
    assert not [n for n in names if n.startswith(("tests/", "resources/"))]
    share = "efex_gui-" + wheel.name.split("-")[1] + ".data/data/share/"
    assert share + "applications/efex-gui.desktop" in names
    for size in ICON_SIZES:
        assert f"{share}icons/hicolor/{size}x{size}/apps/efex-gui.png" in names
    assert "efex = efex_gui.cli:main" in scripts
    assert "[gui_scripts]" in scripts
    assert "efex-gui = efex_gui.app.main:main" in scripts


@pytest.mark.slow
def test_installed_wheel_finds_its_resources_outside_the_checkout(
    installed: Path, tmp_path: Path
) -> None:
    probe = (
        "import importlib.resources as ir, json, efex_gui, efex_gui.extract\n"
        "from efex_gui.resources import resources_dir, icon_path, load_default\n"
        "data = ir.files('efex_gui') / 'resources_data'\n"
        "print(json.dumps({'module': efex_gui.__file__, 'dir': str(resources_dir()),\n"
        "  'icon': str(icon_path('app')), 'settings': bool(load_default('settings')),\n"
        "  'via_importlib': (data / 'icons' / 'app.svg').is_file()}))\n"
    )
    out = _run([str(_venv_bin(installed, "python")), "-c", probe], cwd=tmp_path)
    found = json.loads(out.stdout.strip().splitlines()[-1])
    venv_root = installed.resolve()
    assert Path(found["module"]).resolve().is_relative_to(venv_root), found
    assert Path(found["dir"]).resolve().is_relative_to(venv_root), found
    assert Path(found["dir"]).name == "resources_data"
    assert Path(found["icon"]).is_file()
    assert found["settings"]
    assert found["via_importlib"]


@pytest.mark.slow
def test_installed_cli_runs(installed: Path, tmp_path: Path) -> None:
    out = _run([str(_venv_bin(installed, "efex")), "--version"], cwd=tmp_path)
    assert out.stdout.strip().startswith("efex ")


@pytest.mark.slow
@pytest.mark.gui
def test_installed_gui_opens_the_demo(installed: Path, tmp_path: Path) -> None:
    smoke = _smoke_module()
    png = tmp_path / "demo.png"
    smoke.run_screenshot(_venv_bin(installed, "efex-gui"), png)
    assert smoke.check_png(png) == []


def _png_size(path: Path) -> tuple[int, int]:
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    width, height = struct.unpack(">II", header[16:24])
    return width, height


def test_icon_set_and_desktop_entry() -> None:
    icons = RESOURCES / "icons"
    for size in ICON_SIZES:
        assert _png_size(icons / f"app-{size}.png") == (size, size)
    assert (icons / "app.ico").read_bytes()[:4] == b"\x00\x00\x01\x00"
    assert (icons / "app.icns").read_bytes()[:4] == b"icns"
    entry = configparser.ConfigParser(interpolation=None)
    entry.optionxform = str  # type: ignore[assignment,method-assign]
    entry.read(RESOURCES / "efex-gui.desktop", encoding="utf-8")
    desktop = entry["Desktop Entry"]
    assert desktop["Type"] == "Application"
    assert desktop["Exec"].split()[0] == "efex-gui"
    assert desktop["Icon"] == "efex-gui"
    assert desktop["Terminal"] == "false"


@pytest.fixture
def bundle_dir(tmp_path: Path) -> Iterator[Path]:
    """A built bundle: EFEX_BUNDLE_DIR, or one built now (EFEX_TEST_BUNDLE=1)."""
    given = os.environ.get("EFEX_BUNDLE_DIR")
    if given:
        yield Path(given)
        return
    if os.environ.get("EFEX_TEST_BUNDLE") != "1":
        pytest.skip(
            "bundle smoke test is opt-in: set EFEX_TEST_BUNDLE=1 to build the "
            "PyInstaller bundle (minutes), or EFEX_BUNDLE_DIR to test a built one"
        )
    build = tmp_path / "pyinstaller"
    try:
        _run(
            ["bash", str(ROOT / "packaging" / "build_bundle.sh"), "--no-test"],
            cwd=ROOT,
            DIST=str(build / "dist"),
            WORK=str(build / "work"),
        )
        yield build / "dist" / "efex-gui"
    finally:
        shutil.rmtree(build, ignore_errors=True)  # some 400 MB


@pytest.mark.slow
@pytest.mark.gui
def test_bundle_starts_and_renders_the_demo(bundle_dir: Path, tmp_path: Path) -> None:
    smoke = _smoke_module()
    png = tmp_path / "bundle.png"
    assert smoke.main([str(bundle_dir), "--png", str(png)]) == 0
    assert smoke.check_png(png) == []


# --- documentation shipped with the package ------------------------------------------

DOCS = [
    ROOT / "README.md",
    ROOT / "packaging" / "README.md",
    *(
        ROOT / "docs" / name
        for name in (
            "user-guide.md",
            "cli.md",
            "migrating-from-bluepyefe.md",
            "architecture.md",
        )
    ),
]


@pytest.mark.parametrize("page", DOCS, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_relative_links_and_pictures_of_the_docs_exist(page: Path) -> None:
    text = page.read_text(encoding="utf-8")
    targets = re.findall(r"\]\(([^)#\s]+)", text)
    missing = [t for t in targets if "://" not in t and not (page.parent / t).exists()]
    assert not missing, f"{page.name} links to missing files: {missing}"


def test_cli_reference_names_every_command_and_option() -> None:
    from efex_gui.cli import build_parser

    text = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    (commands,) = [
        a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction)
    ]
    for name, parser in commands.choices.items():
        assert f"## `efex {name}`" in text, f"docs/cli.md has no section for {name}"
        options = [o for a in parser._actions for o in a.option_strings]
        missing = [o for o in options if o not in text]
        assert not missing, f"docs/cli.md does not mention efex {name} {missing}"
