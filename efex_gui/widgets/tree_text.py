"""What the browser's tree shows: columns, their tooltips, colours, status texts.

Qt-light helpers of :class:`~efex_gui.widgets.recording_tree_model.RecordingTreeModel`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtGui import QColor

from efex_gui.core.importing.file_names import PATH_KEYS

COLUMNS = ("Name", "Amp (nA)", "Rel. amp (%)", "Spikes", "Status", "File")
NAME, AMP, AMP_REL, SPIKES, STATUS, FILE = range(len(COLUMNS))
COLUMN_TIPS = (
    "Cell, protocol, or sweep (trace name inside the file, or the file's number). "
    "Untick to exclude.",
    "Stimulus step amplitude (nA) the core detected (or the metadata's amp)",
    "Amplitude relative to the cell's rheobase (%), once a rheobase is found",
    "Spikes efel finds during the stimulus (efel Threshold setting)",
    "ok, flagged (purple: automatic QC checks, hover for them), excluded (with the "
    "reason), unreadable or error (with the reason); amber: read with a warning",
    "The sweep's file (voltage file of a pair), relative to the data folder",
)

GREY = QColor(150, 150, 150)
RED = QColor(198, 40, 40)
AMBER = QColor(190, 120, 0)
PURPLE = QColor(123, 31, 162)


def entry_paths(dataset: Any, key: Any) -> dict[str, str]:
    """Absolute path → stored path of the files of one entry of ``dataset``."""
    config = dataset.config(key)
    paths = (config.get(k) for k in PATH_KEYS)
    return {dataset.resolve(p): p for p in paths if isinstance(p, str) and p}


def status_text(summary: Any, paths: dict[str, str]) -> str:
    """Describe a sweep's status and reason, for the Status column.

    Parameters
    ----------
    summary : SweepSummary
        The sweep's status, reason and warnings.
    paths : dict
        Absolute path → stored path of the sweep's files: absolute paths in a
        reader's message are shortened to file names (the tooltip keeps them).
    """
    reason = summary.reason
    if reason and summary.status in ("unreadable", "refused", "error"):
        for absolute, stored in paths.items():
            reason = reason.replace(absolute, Path(stored).name)
    if summary.warnings and (not reason or summary.status == "flagged"):
        count = len(summary.warnings)
        warned = f"⚠ {count} warning{'s' if count > 1 else ''} (hover)"
        if summary.status == "flagged":  # the warnings first: they may explain flags
            return f"flagged {warned}: {reason}"
        return f"{summary.status} {warned}"
    status: str = summary.status
    return status + (f": {reason}" if reason else "")


def spikes_text(summary: Any) -> str:
    """Return the spike count; 0 for a read sweep where efel found no spike (None)."""
    if summary.spikecount is not None:
        return str(summary.spikecount)
    return "0" if summary.amp is not None else ""


def fmt_number(value: float | None, digits: int) -> str:
    """``value`` with ``digits`` decimals (empty for None)."""
    if value is None:
        return ""
    return f"{value:.{digits}f}"
