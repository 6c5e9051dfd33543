"""What the extraction UI shows besides a run: the target check, the rheobase review.

Both look at cells (:func:`check_cells`): the last result's, or, before any
extraction, the recordings part 1 read for browsing once every file is read (not
excluded, with the browser's rheobases, which follow the session's rheobase settings
and overrides). The browser's cells are derived once per change
(:class:`BrowsedCells`), for the check and the review alike. Qt-free helpers of
:class:`~efex_gui.app.extraction_controller.ExtractionController`.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from efex_gui.core.extraction.result import inputs_signature
from efex_gui.core.recordings.recording import matched_amplitude
from efex_gui.core.rheobase.review import RheobaseRow, review_session
from efex_gui.core.session.dataset import SweepKey
from efex_gui.core.targets.check import TargetCheck, check_targets
from efex_gui.core.targets.issues import ERROR

if TYPE_CHECKING:
    from collections.abc import Sequence

    from efex_gui.core.extraction.result import ExtractionResult
    from efex_gui.core.session.document import ExtractionSettings, Session

__all__ = [
    "BrowsedCells",
    "CheckCell",
    "CheckSweep",
    "all_read",
    "browsed_cell",
    "browsed_cells",
    "check_cells",
    "error_rows",
    "left_out_targets",
    "review_rows",
    "rheobase_inputs",
    "session_to_run",
    "target_check",
]


@dataclass
class CheckCell:
    """What the target check and the rheobase review need of a cell."""

    name: str
    rheobase: Any = None
    recordings: list[Any] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class CheckSweep:
    """A sweep read for browsing, as the target check and the rheobase review see it.

    The values of its Recording that they read. Checking every cell before a run
    holds these, not every frozen cell thawed at once (at 440 cells that kept 80 MB
    more resident). A spike count still deferred (a sweep read again with new efel
    settings, not counted yet) keeps its Recording, counted if asked: the review
    asks only for the rheobase protocols' sweeps.
    """

    protocol_name: str
    amp: Any
    amp_rel: Any
    count: int | None
    #: the Recording, while its spike count is deferred
    deferred: Any = None

    @classmethod
    def of(cls, recording: Any) -> CheckSweep:
        """Take the values of a Recording."""
        values = (
            recording.protocol_name,
            recording.amp,
            getattr(recording, "amp_rel", None),  # a duck-typed eCode may have none
        )
        if getattr(recording, "spikecount_pending", False):
            return cls(*values, None, recording)
        return cls(*values, recording.spikecount)

    @property
    def spikecount(self) -> int | None:
        """Return the number of spikes (None: efel found no ``peak_time``)."""
        if self.deferred is not None:
            count: int | None = self.deferred.spikecount
            return count
        return self.count

    def matched_amplitude(self, absolute_amplitude: bool = False) -> Any:
        """Return the amplitude targets are matched on (``Recording``'s rule)."""
        return matched_amplitude(self.amp, self.amp_rel, absolute_amplitude)


def browsed_cell(session_controller: Any, name: str) -> CheckCell | None:
    """Return a cell of the recordings read for browsing, without excluded sweeps.

    A frozen cell is thawed alone, and let go at once.

    Parameters
    ----------
    session_controller : SessionController
        Part 1's controller (its recording store, dataset and exclusions).
    name : str
        The cell.

    Returns
    -------
    CheckCell or None
        None when no sweep of the cell is read and not excluded.
    """
    store, dataset = session_controller.store, session_controller.dataset
    sweeps = [
        CheckSweep.of(recording)
        for sweep, recording in store.cell_recordings(name)
        if not session_controller.is_excluded(dataset.exclusion_key(sweep))
    ]
    return CheckCell(name, store.rheobases.get(name), sweeps) if sweeps else None


def browsed_cells(session_controller: Any) -> list[CheckCell]:
    """Return the cells of the recordings read for browsing, without excluded sweeps.

    Derived anew (:class:`BrowsedCells` keeps them between changes).

    Parameters
    ----------
    session_controller : SessionController
        Part 1's controller (its recording store, dataset and exclusions).

    Returns
    -------
    list of CheckCell
        Empty when nothing has been read yet.
    """
    names = session_controller.dataset.cells()
    cells = (browsed_cell(session_controller, name) for name in names)
    return [cell for cell in cells if cell is not None]


class BrowsedCells:
    """:func:`browsed_cells`, each cell kept until what the browser shows of it changes.

    A cell is derived again only when its stamp (the store's
    :meth:`~efex_gui.app.loading.RecordingStore.cell_generation`: entries read,
    rheobase, exclusions, session) changed since. Each check derived every cell,
    thawing every frozen one again: 2.4 s on the GUI thread at 440 cells, twice
    when the rheobase view asked too. The cells handed out are shared by the
    callers, which only read them (a spike count still deferred is counted once,
    in the Recording its sweep keeps).
    """

    def __init__(self) -> None:
        self._cells: dict[str, tuple[int, CheckCell | None]] = {}
        #: (store stamp, :func:`all_read`) of the last answer
        self._all_read: tuple[int, bool] | None = None

    def __call__(self, session_controller: Any) -> list[CheckCell]:
        """Return :func:`browsed_cells` of ``session_controller``."""
        store = session_controller.store
        kept: dict[str, tuple[int, CheckCell | None]] = {}
        for name in session_controller.dataset.cells():
            stamp = store.cell_generation(name)
            known = self._cells.get(name)
            if known is None or known[0] != stamp:
                known = (stamp, browsed_cell(session_controller, name))
            kept[name] = known
        self._cells = kept  # (the cells of a session closed are let go)
        return [cell for _stamp, cell in kept.values() if cell is not None]

    def all_read(self, session_controller: Any) -> bool:
        """Return :func:`all_read`, kept until the store's stamp changes.

        It changes when entries are read or forgotten, exclusions change (those of
        a cell change its stamp) or a session is opened. :func:`all_read` walks
        every entry: 1.5 s at 440 cells (71 500 entries, load 5).
        """
        stamp = session_controller.store.generation()
        known = self._all_read
        if known is None or known[0] != stamp:
            known = self._all_read = (stamp, all_read(session_controller))
        return known[1]


def all_read(session_controller: Any) -> bool:
    """Whether every entry that is not excluded has been read for browsing."""
    sc = session_controller
    dataset = sc.dataset
    for key in dataset.entry_keys():
        if not dataset.is_loaded(key) and not sc.is_excluded(
            dataset.exclusion_key(SweepKey(key.cell, key.protocol, key.entry, None))
        ):
            return False
    return True


def check_cells(
    session_controller: Any,
    result: Any,
    stale: bool,
    browsed: BrowsedCells | None = None,
) -> list[Any] | None:
    """Return the cells the target check and the rheobase review look at.

    The last result's cells when it is up to date; else the recordings read for
    browsing when every file has been read (from ``browsed``, which keeps them, if
    given); else a stale result's cells; else None (a partial reading would report
    every protocol not read yet as missing).
    """
    if result is not None and not stale:
        return list(result.cells)
    if browsed is None:
        browsed = BrowsedCells()  # (derived anew)
    if browsed.all_read(session_controller):
        cells = browsed(session_controller)
        if cells:
            return cells
    return None if result is None else list(result.cells)


def target_check(
    session: Session, cells: list[Any] | None, result: Any = None
) -> TargetCheck:
    """Check the session's targets (or the last run's automatic ones) on ``cells``.

    Parameters
    ----------
    session : Session
        The session (targets and settings).
    cells : list, optional
        Cells to count matches on (None: only the checks needing no recording).
    result : ExtractionResult, optional
        The last result, whose targets stand for automatic targets.

    Returns
    -------
    TargetCheck
        Coverage per row and issues.
    """
    targets = session.targets
    if targets is None:
        targets = result.targets if result is not None else []
    settings = session.settings
    return check_targets(
        targets,
        cells,
        absolute_amplitude=settings.absolute_amplitude,
        threshold_nvalue_save=settings.threshold_nvalue_save,
    )


def error_rows(check: TargetCheck, n_targets: int) -> list[int]:
    """Return the target rows ``check`` finds impossible (errors among their issues).

    Parameters
    ----------
    check : TargetCheck
        A check of the session's targets.
    n_targets : int
        Number of target rows.

    Returns
    -------
    list of int
        The rows, in order.
    """
    return [row for row in range(n_targets) if check.worst_severity(row) == ERROR]


def session_to_run(
    session: Session, left_out: Sequence[int]
) -> tuple[Session, str | None]:
    """Return ``session`` to run without the target rows ``left_out`` (a copy if any).

    Parameters
    ----------
    session : Session
        The session.
    left_out : sequence of int
        Target rows that cannot be extracted (errors), to leave out.

    Returns
    -------
    tuple
        The session or its copy, and the signature its result stands for: the whole
        session's when rows were left out (they cannot give a value, so the result
        is the session's result), else None (its own).
    """
    rows = set(left_out)
    if not rows or session.targets is None:
        return session, None
    signature = inputs_signature(session)
    copied = copy.copy(session)  # the rest is shared with the snapshot given
    copied.targets = [
        copy.deepcopy(t) for i, t in enumerate(session.targets) if i not in rows
    ]
    return copied, signature


def left_out_targets(session: Session, result: ExtractionResult | None) -> int:
    """How many of the session's target rows ``result`` left out (they had errors)."""
    targets = session.targets
    if result is None or targets is None or result.auto_targets:
        return 0
    return max(0, len(targets) - len(result.targets))


def review_rows(session: Session, cells: list[Any] | None) -> list[RheobaseRow]:
    """Per cell: sweeps, each strategy's rheobase, the override and the one used.

    With the session's current settings (those of the next run) and overrides.
    """
    return review_session(
        cells or [],
        session.settings,
        session.targets is None,
        session.rheobase_overrides,
        session.rheobase_protocols(),
    )


def rheobase_inputs(settings: ExtractionSettings) -> tuple[Any, ...]:
    """Return the settings the browser's rheobases (and relative amplitudes) use."""
    return (
        settings.efel_settings,
        settings.protocols_rheobase,
        settings.match_protocols_by_ecode,
        settings.rheobase_strategy,
        settings.rheobase_settings,
        settings.absolute_amplitude,
    )
