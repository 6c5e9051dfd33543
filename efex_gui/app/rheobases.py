"""Per-cell rheobases of the sweeps the browser has read (not excluded).

The browser shows relative amplitudes before any extraction: the rheobase of each
cell is computed by the core's strategies from the Recordings read so far, with the
session's settings, exclusions and rheobase overrides.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from efex_gui.core.session.dataset import Dataset, EntryKey, SweepKey

if TYPE_CHECKING:
    from efex_gui.core.session.document import Session


def compute_rheobases(
    dataset: Dataset,
    recordings: dict[EntryKey, list[Any]],
    session: Session,
    only: set[str] | None = None,
) -> dict[str, float | None]:
    """Rheobase (nA, or None) per cell, as the core's strategies find it.

    Parameters
    ----------
    dataset : Dataset
        The listing (cells, exclusion keys).
    recordings : dict
        Entry → its Recordings (None for traces that failed).
    session : Session
        Settings, exclusions and rheobase overrides.
    only : set of str, optional
        Compute these cells only (None: every cell).

    Returns
    -------
    dict
        Cell name → rheobase; empty when amplitudes are absolute.
    """
    from efex_gui.core.extraction.read_and_extract import PRESET_PROTOCOLS_RHEOBASE
    from efex_gui.core.recordings.cell import Cell
    from efex_gui.core.rheobase.strategies import compute_rheobase

    settings = session.settings
    if settings.absolute_amplitude:
        return {}
    protocols = session.rheobase_protocols()
    if protocols is None:
        protocols = list(PRESET_PROTOCOLS_RHEOBASE)
    cells = {
        name: Cell(name) for name in dataset.cells() if only is None or name in only
    }
    for key, recs in recordings.items():
        if key.cell not in cells:
            continue
        for index, recording in enumerate(recs):
            sweep = SweepKey(key.cell, key.protocol, key.entry, index)
            excluded = session.exclusions.is_excluded(dataset.exclusion_key(sweep))
            if recording is not None and not excluded and key.cell in cells:
                cells[key.cell].recordings.append(recording)
    compute_rheobase(
        list(cells.values()),
        protocols,
        settings.rheobase_strategy,
        settings.rheobase_settings,
        rheobase_overrides=session.rheobase_overrides,
    )
    return {name: cell.rheobase for name, cell in cells.items()}
