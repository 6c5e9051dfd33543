"""The cell summary made headless: computed for a run configuration, written out.

:func:`summarize_run` reads the recordings and computes the rheobase exactly as
``efex rheobase`` and the extraction do (``read_recordings`` of
:mod:`efex_gui.core.extraction.read_and_extract` and ``compute_rheobase`` of
:mod:`efex_gui.core.rheobase.strategies`, same arguments), then summarises
every cell. :func:`summary_document` is the ``efex summary --json`` document
``{"cells": {name: {measure: float | null, "n": {measure: int}}}}``;
:func:`write_summary` writes it as JSON, CSV or Excel (``.xlsx``, via openpyxl).
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from efex_gui.core.analysis.cell_summary import (
    MEASURES,
    CellSummary,
    Progress,
    SummaryContext,
    summarize_cells,
)
from efex_gui.core.analysis.protocol_map import MeasureProtocols
from efex_gui.core.atomic_files import atomic_write_text, write_atomic
from efex_gui.core.errors import SettingsError

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

__all__ = [
    "SUMMARY_FORMATS",
    "summarize_run",
    "summary_document",
    "summary_table",
    "write_summary",
]

#: file suffixes :func:`write_summary` writes
SUMMARY_FORMATS = (".csv", ".json", ".xlsx")


def summarize_run(
    kwargs: Mapping[str, Any],
    protocols: MeasureProtocols | None = None,
    *,
    progress: Progress | None = None,
    cancel: Any = None,
) -> tuple[list[CellSummary], list[Any]]:
    """Read a run's recordings, compute rheobases, summarise every cell.

    Parameters
    ----------
    kwargs : mapping
        ``extract_efeatures`` keyword arguments (``files_metadata``,
        ``efel_settings``, ``protocols_rheobase``, ``rheobase_strategy``,
        ``rheobase_settings``, ``rheobase_overrides``, ``recording_reader``,
        ``consensus_timing``).
    protocols : MeasureProtocols, optional
        Which protocols feed which measure (default mapping).
    progress, cancel : optional
        As :func:`summarize_cells`.

    Returns
    -------
    tuple
        The summaries and the cells they were computed from.
    """
    from efex_gui.core.extraction.read_and_extract import (
        read_with_rheobase,
        rheobase_inputs,
    )

    efel_settings, protocols_rheobase = rheobase_inputs(kwargs)
    cells, _ = read_with_rheobase(kwargs)
    context = SummaryContext(
        protocols=protocols or MeasureProtocols(),
        protocols_rheobase=list(protocols_rheobase),
        efel_settings=dict(efel_settings),
    )
    summaries = summarize_cells(cells, context, progress=progress, cancel=cancel)
    return summaries, cells


def summary_document(summaries: Sequence[CellSummary]) -> dict[str, Any]:
    """``{"cells": {name: {measure: float | None, ..., "n": {measure: int}}}}``."""
    return {"cells": {s.cell: s.to_json() for s in summaries}}


def summary_table(summaries: Sequence[CellSummary]) -> list[list[Any]]:
    """Header and one row per cell: the measures, their sweep counts, the notes."""
    header: list[Any] = ["cell", *MEASURES, *(f"n_{m}" for m in MEASURES), "notes"]
    rows = [header]
    for summary in summaries:
        notes = [
            f"{name}: {summary.measures[name].note}"
            for name in MEASURES
            if summary.measures[name].note
        ]
        rows.append(
            [
                summary.cell,
                *(summary.value(m) for m in MEASURES),
                *(summary.measures[m].n for m in MEASURES),
                "; ".join(notes),
            ]
        )
    return rows


def summary_csv(summaries: Sequence[CellSummary]) -> str:
    """Write the table as CSV text (empty cells for missing values)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    for row in summary_table(summaries):
        writer.writerow(["" if value is None else value for value in row])
    return buffer.getvalue()


def _write_xlsx(summaries: Sequence[CellSummary], path: Path) -> None:
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "cells"
    for row in summary_table(summaries):
        sheet.append(row)
    sheet.freeze_panes = "B2"
    write_atomic(path, workbook.save, binary=True)


def write_summary(summaries: Sequence[CellSummary], path: str | Path) -> Path:
    """Write the summary as ``.csv``, ``.json`` or ``.xlsx`` (from the suffix).

    Raises
    ------
    SettingsError
        Another suffix; the message lists the accepted ones.
    """
    target = Path(path)
    suffix = target.suffix.lower()
    if suffix == ".csv":
        atomic_write_text(target, summary_csv(summaries))
    elif suffix == ".json":
        text = json.dumps(summary_document(summaries), indent=2)
        atomic_write_text(target, text + "\n")
    elif suffix == ".xlsx":
        _write_xlsx(summaries, target)
    else:
        kind = suffix or "a file without suffix"
        raise SettingsError(
            f"{target}: cannot write a cell summary as {kind}; use "
            f"{', '.join(SUMMARY_FORMATS)}"
        )
    return target
