"""ExtractionWorker: finished / failed / cancelled, progress, one run at a time."""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

import pytest

from efex_gui.app.extraction_worker import (
    ExtractionError,
    ExtractionProgress,
    ExtractionWorker,
)
from efex_gui.core.extraction.incremental import ExtractionResult
from efex_gui.core.session.document import Session, open_json

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path


@pytest.fixture
def worker(qtbot: Any) -> Iterator[ExtractionWorker]:
    worker = ExtractionWorker()
    yield worker
    assert worker.stop(), "the worker thread did not stop"


@pytest.fixture
def session(demo_dir: Path) -> Session:
    return open_json(demo_dir / "config.json")


def test_run_finishes_with_monotone_progress(
    qtbot: Any, worker: ExtractionWorker, session: Session
) -> None:
    progress: list[ExtractionProgress] = []
    results: list[ExtractionResult] = []
    worker.progressed.connect(progress.append)
    worker.finished.connect(results.append)
    with qtbot.waitSignals(
        [worker.started, worker.finished], order="strict", timeout=300_000
    ):
        assert worker.start(session)
    (result,) = results
    assert isinstance(result, ExtractionResult)
    assert result.features
    assert not worker.is_running()
    reading = [p for p in progress if p.message.startswith("Reading")]
    features = [p for p in progress if p.message.startswith("Features")]
    assert reading
    assert features
    for stage in (reading, features):
        assert [p.done for p in stage] == sorted(p.done for p in stage)
    assert features[-1].done == features[-1].total


def test_one_run_at_a_time(
    qtbot: Any, worker: ExtractionWorker, session: Session
) -> None:
    with qtbot.waitSignal(worker.finished, timeout=300_000):
        assert worker.start(session)
        assert worker.is_running()
        assert not worker.start(session)


def test_cancel_stops_the_run(
    qtbot: Any, worker: ExtractionWorker, session: Session
) -> None:
    finished: list[Any] = []
    worker.finished.connect(finished.append)

    def cancel_once_features_start(progress: ExtractionProgress) -> None:
        if progress.message.startswith("Features"):
            worker.cancel()

    worker.progressed.connect(cancel_once_features_start)
    with qtbot.waitSignal(worker.cancelled, timeout=60_000):
        worker.start(session)
    assert finished == []
    assert not worker.is_running()
    # the caches kept what was read: the next run reads no file again
    read_before = len(worker.extractor._entries)
    assert read_before > 0
    worker.progressed.disconnect(cancel_once_features_start)
    with qtbot.waitSignal(worker.finished, timeout=300_000) as blocker:
        worker.start(session)
    assert blocker.args[0].entries_cached == read_before


def test_cancel_before_start_of_work(
    qtbot: Any, worker: ExtractionWorker, session: Session
) -> None:
    with qtbot.waitSignal(worker.cancelled, timeout=60_000):
        worker.start(session)
        worker.cancel()


def test_failure_is_reported(
    qtbot: Any, worker: ExtractionWorker, session: Session
) -> None:
    broken = copy.deepcopy(session)
    broken.settings.protocol_mode = "lnmc"
    with qtbot.waitSignal(worker.failed, timeout=60_000) as blocker:
        worker.start(broken)
    error = blocker.args[0]
    assert isinstance(error, ExtractionError)
    assert "lnmc" in error.message
    assert "Traceback" in error.details
    assert not worker.is_running()
    with qtbot.waitSignal(worker.finished, timeout=300_000):
        assert worker.start(session)


def test_side_job_runs_on_the_worker_thread(
    qtbot: Any, worker: ExtractionWorker
) -> None:
    import threading

    main = threading.get_ident()
    with qtbot.waitSignal(worker.job_finished, timeout=10_000) as blocker:
        worker.run_job("probe", threading.get_ident)
    assert blocker.args[0] == "probe"
    assert blocker.args[1] != main
    with qtbot.waitSignal(worker.job_failed, timeout=10_000) as failed:
        worker.run_job("boom", lambda: 1 / 0)
    assert "boom" in failed.args[0].message
