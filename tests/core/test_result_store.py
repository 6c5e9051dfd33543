"""Saved results beside a session file, and the atomic writer's permissions."""

from __future__ import annotations

import os
import pickle
import stat
import sys
from typing import TYPE_CHECKING

import pytest

from efex_gui.core.atomic_files import atomic_write_text
from efex_gui.core.export.outputs import write_json_atomic
from efex_gui.core.extraction import result_store
from efex_gui.core.session.document import Session

if TYPE_CHECKING:
    from pathlib import Path


class _Boom:
    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (os.system, ("echo pwned > /dev/null",))


def test_a_results_file_cannot_run_code(tmp_path: Path) -> None:
    path = tmp_path / "evil.efex-results"
    document = {"kind": result_store.KIND, "format_version": 1, "result": _Boom()}
    path.write_bytes(pickle.dumps(document))
    assert result_store.load_result(path) is None


def test_foreign_or_missing_results_are_ignored(tmp_path: Path) -> None:
    assert result_store.load_result(tmp_path / "none.efex-results") is None
    path = tmp_path / "x.efex-results"
    path.write_bytes(pickle.dumps({"kind": "other"}))
    assert result_store.load_result(path) is None


def test_results_path_sits_beside_the_session(tmp_path: Path) -> None:
    assert result_store.results_path(tmp_path / "cur.json") == (
        tmp_path / "cur.efex-results"
    )


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX permissions")
@pytest.mark.parametrize("umask", [0o022, 0o077, 0o002])
def test_saved_and_exported_files_respect_the_umask(tmp_path: Path, umask: int) -> None:
    old = os.umask(umask)
    try:
        atomic_write_text(tmp_path / "a.txt", "x")
        write_json_atomic(tmp_path / "features.json", {"a": 1})
        Session(files_metadata={}).save(tmp_path / "s.json")
    finally:
        os.umask(old)
    for name in ("a.txt", "features.json", "s.json"):
        mode = stat.S_IMODE((tmp_path / name).stat().st_mode)
        assert mode == 0o666 & ~umask, (name, oct(mode))
