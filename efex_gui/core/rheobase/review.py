"""Per-cell rheobase review: the sweeps, what each strategy finds, what is used.

For the GUI's rheobase view: :func:`review_rheobase` lists, per cell, the (amplitude,
spike count) points of the rheobase protocols, the rheobase each of the core's four
strategies would give (run on a probe cell, so nothing is modified), the rheobase of
the chosen strategy and the one used after a user's override. Qt-free.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from efex_gui.core.recordings.cell import Cell
from efex_gui.core.rheobase.strategies import (
    PRESET_PROTOCOLS_RHEOBASE,
    STRATEGIES,
    run_rheobase_settings,
)

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

logger = logging.getLogger(__name__)

__all__ = [
    "RheobasePoint",
    "RheobaseRow",
    "review_rheobase",
    "review_session",
    "rheobase_by_strategy",
]


@dataclass(frozen=True)
class RheobasePoint:
    """One sweep of a rheobase protocol: amplitude (nA) and spike count.

    ``spikecount`` None means efel found no spike: the strategies do not see it.
    """

    amp: float
    spikecount: int | None
    protocol: str
    recording: Any = field(compare=False, repr=False)


@dataclass
class RheobaseRow:
    """The rheobase story of one cell."""

    cell: str
    points: list[RheobasePoint]
    by_strategy: dict[str, Any]
    computed: Any
    override: float | None
    used: Any


def rheobase_by_strategy(
    cell: Any,
    protocols_rheobase: Sequence[str],
    settings_by_strategy: Mapping[str, Mapping[str, Any] | None] | None = None,
) -> dict[str, Any]:
    """Return the rheobase each strategy finds for ``cell`` (None when it finds none).

    Parameters
    ----------
    cell : Cell
        Any object with ``name`` and ``recordings`` (not modified).
    protocols_rheobase : sequence of str
        Protocols whose sweeps are used (exact names).
    settings_by_strategy : mapping, optional
        Keyword arguments per strategy name (default: each strategy's defaults).

    Returns
    -------
    dict
        ``{strategy: rheobase (nA) or None}``; a strategy that raises gives None.
    """
    values: dict[str, Any] = {}
    for name, strategy in STRATEGIES.items():
        probe = Cell(str(cell.name))
        probe.recordings = list(cell.recordings)
        settings = dict((settings_by_strategy or {}).get(name) or {})
        try:
            strategy(probe, list(protocols_rheobase), **settings)
        except Exception as exc:  # a strategy's failure is a missing value here
            logger.info("Rheobase strategy %s failed on %s: %s", name, cell.name, exc)
        values[name] = probe.rheobase
    return values


def _points(cell: Any, protocols: Sequence[str]) -> list[RheobasePoint]:
    points = []
    for recording in cell.recordings:
        if recording.protocol_name in protocols and recording.amp is not None:
            points.append(
                RheobasePoint(
                    float(recording.amp),
                    recording.spikecount,
                    recording.protocol_name,
                    recording,
                )
            )
    return sorted(points, key=lambda p: p.amp)


def review_rheobase(
    cells: Iterable[Any],
    protocols_rheobase: Sequence[str],
    strategy: str,
    strategy_settings: Mapping[str, Any] | None,
    overrides: Mapping[str, float] | None = None,
) -> list[RheobaseRow]:
    """Review the rheobase of every cell.

    Parameters
    ----------
    cells : iterable of Cell
        Cells with their recordings (e.g. an extraction result's).
    protocols_rheobase : sequence of str
        Rheobase protocols.
    strategy : str
        The chosen strategy (its row value uses ``strategy_settings``).
    strategy_settings : mapping, optional
        Settings of the chosen strategy.
    overrides : mapping, optional
        ``{cell: rheobase}`` set by the user.

    Returns
    -------
    list of RheobaseRow
        In the cells' order.
    """
    rows = []
    for cell in cells:
        values = rheobase_by_strategy(
            cell, protocols_rheobase, {strategy: strategy_settings}
        )
        override = (overrides or {}).get(cell.name)
        computed = values.get(strategy)
        rows.append(
            RheobaseRow(
                cell=str(cell.name),
                points=_points(cell, protocols_rheobase),
                by_strategy=values,
                computed=computed,
                override=override,
                used=override if override is not None else computed,
            )
        )
    return rows


def review_session(
    cells: Iterable[Any],
    settings: Any,
    auto_targets: bool,
    overrides: Mapping[str, float] | None = None,
    protocols_rheobase: Sequence[str] | None = None,
) -> list[RheobaseRow]:
    """Review the rheobase of ``cells`` with a session's extraction settings.

    ``None`` settings mean what the pipeline makes of them: the preset rheobase
    protocols, and ``{"upper_bound_spikecount": 4}`` for ``flush`` in the automatic
    targets branch (spec §2.12).

    Parameters
    ----------
    cells : iterable of Cell
        Cells with their recordings.
    settings : ExtractionSettings
        The session's settings.
    auto_targets : bool
        Whether the run uses automatic targets.
    overrides : mapping, optional
        As :func:`review_rheobase`, which gives the rows.
    protocols_rheobase : sequence of str, optional
        The rheobase protocols a run uses
        (:meth:`~efex_gui.core.session.document.Session.rheobase_protocols`);
        default: the settings' own.

    See Also
    --------
    review_rheobase : the rows, from explicit protocols and strategy settings.
    """
    protocols = protocols_rheobase or settings.protocols_rheobase
    if protocols is None:
        protocols = list(PRESET_PROTOCOLS_RHEOBASE)
    strategy_settings = run_rheobase_settings(
        settings.rheobase_strategy, settings.rheobase_settings, auto_targets
    )
    return review_rheobase(
        cells, protocols, settings.rheobase_strategy, strategy_settings, overrides
    )
