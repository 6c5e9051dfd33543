"""Nothing lost: a failure while writing leaves the previous file whole, and no litter.

Every writer goes through a temporary file in the same folder and ``os.replace``. The
failures are simulated where they happen in practice: serialising (``json.dumps`` /
``pickle.dump`` raise), writing (the disk fills up half-way) and renaming.
"""

from __future__ import annotations

import json
import os
import pickle
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from efex_gui.core import atomic_files
from efex_gui.core.export import outputs as export
from efex_gui.core.export.outputs import save_outputs, write_json_atomic, write_pickles
from efex_gui.core.session.document import Session, atomic_write_text
from efex_gui.extract import extract_efeatures
from tests.reliability.conftest import extraction_kwargs

if TYPE_CHECKING:
    from collections.abc import Callable


class DiskFullError(OSError):
    """Raised by the patched writers half-way through a file."""


def _half_writer(real_fdopen: Callable[..., Any]) -> Callable[..., Any]:
    """An ``os.fdopen`` whose handles write half of what they are given, then fail."""

    class HalfHandle:
        def __init__(self, handle: Any) -> None:
            self._handle = handle

        def write(self, data: Any) -> int:
            self._handle.write(data[: len(data) // 2])
            self._handle.flush()
            raise DiskFullError(28, "No space left on device")

        def __getattr__(self, name: str) -> Any:
            return getattr(self._handle, name)

        def __enter__(self) -> HalfHandle:
            return self

        def __exit__(self, *exc: object) -> None:
            self._handle.close()

    return lambda fd, *args, **kwargs: HalfHandle(real_fdopen(fd, *args, **kwargs))


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


FAILURES = ("serialise", "half-written", "rename")


def _break(monkeypatch: pytest.MonkeyPatch, module: Any, failure: str) -> None:
    def boom(*args: Any, **kwargs: Any) -> Any:
        raise DiskFullError(5, "simulated failure")

    if failure == "serialise":
        monkeypatch.setattr(json, "dumps", boom)
        monkeypatch.setattr(pickle, "dump", boom)
    elif failure == "half-written":
        monkeypatch.setattr(module.os, "fdopen", _half_writer(os.fdopen))
    else:
        monkeypatch.setattr(module.os, "replace", boom)


@pytest.mark.parametrize("failure", FAILURES)
def test_json_export_keeps_the_previous_file(
    failure: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "features.json"
    write_json_atomic(target, {"IDRest_150": {"soma": [1.0, float("nan")]}})
    before = _snapshot(tmp_path)
    _break(monkeypatch, atomic_files, failure)
    with pytest.raises(DiskFullError):
        write_json_atomic(target, {"IDRest_150": {"soma": [2.0]}})
    assert _snapshot(tmp_path) == before  # same bytes, no temporary file


@pytest.mark.parametrize("failure", FAILURES)
def test_the_three_outputs_and_the_pickles_keep_their_previous_content(
    failure: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    save_outputs(tmp_path, {"a": 1}, {"b": 2}, {"c": 3})
    write_pickles([{"cell": 1}], [{"protocol": 1}], tmp_path)
    before = _snapshot(tmp_path)
    _break(monkeypatch, atomic_files, failure)
    with pytest.raises(DiskFullError):
        save_outputs(tmp_path, {"a": 10}, {"b": 20}, {"c": 30})
    with pytest.raises(DiskFullError):
        write_pickles([{"cell": 2}], [{"protocol": 2}], tmp_path)
    assert _snapshot(tmp_path) == before


@pytest.mark.parametrize("failure", FAILURES)
def test_sessions_keep_the_previous_file(
    failure: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "run.efex.json"
    first = Session(files_metadata={"c": {"IDRest": [{"filepath": "a.nwb"}]}})
    first.save(path)
    before = _snapshot(tmp_path)
    _break(monkeypatch, atomic_files, failure)
    second = Session(files_metadata={"c": {"IDRest": [{"filepath": "b.nwb"}]}})
    with pytest.raises(DiskFullError):
        second.save(path)
    if failure != "serialise":  # text needs no serialising
        with pytest.raises(DiskFullError):
            atomic_write_text(path, "not json")
    assert _snapshot(tmp_path) == before
    monkeypatch.undo()
    assert Session.load(path).files_metadata == first.files_metadata


def test_a_failed_export_mid_run_leaves_every_file_whole(
    files_metadata: dict, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The second of the three result files fails: the first is new, the others are
    the previous run's, each one valid JSON; nothing half-written, no temp file."""
    out = tmp_path / "out"
    kwargs = extraction_kwargs()
    extract_efeatures(str(out), files_metadata, write_files=True, **kwargs)
    before = _snapshot(out)
    real = export.write_json_atomic
    calls = []

    def second_fails(path: Any, obj: Any, **options: Any) -> Path:
        calls.append(Path(path).name)
        if len(calls) == 2:
            monkeypatch.setattr(atomic_files.os, "fdopen", _half_writer(os.fdopen))
        return real(path, obj, **options)

    monkeypatch.setattr(export, "write_json_atomic", second_fails)
    kwargs = extraction_kwargs(threshold_nvalue_save=2)
    with pytest.raises(DiskFullError):
        extract_efeatures(str(out), files_metadata, write_files=True, **kwargs)
    after = _snapshot(out)
    assert set(after) == set(before)
    for name, content in after.items():
        json.loads(content)  # whole
        if name != calls[0]:
            assert content == before[name], name


def test_every_writer_syncs_to_disk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """JSON outputs, pickles, sessions and text files are fsynced before the rename."""
    synced: list[int] = []
    real_fsync = os.fsync
    monkeypatch.setattr(
        atomic_files.os, "fsync", lambda fd: (synced.append(fd), real_fsync(fd))[1]
    )
    save_outputs(tmp_path, {}, {}, {})
    write_pickles([], [], tmp_path)
    Session().save(tmp_path / "s.json")
    atomic_write_text(tmp_path / "t.txt", "x")
    assert len(synced) == 3 + 2 + 1 + 1
