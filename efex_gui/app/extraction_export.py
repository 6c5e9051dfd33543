"""Writing an extraction result: the three BluePyEfe files, provenance, plots.

The three files are the result's dicts written by the core's ``save_outputs`` (each
file atomically, as ``extract_efeatures(write_files=True)`` writes them), so a GUI
export equals the headless extraction of the same session file by file. The sidecar
``efex_provenance.json`` records the effective settings and targets, the exclusions,
the inputs with their checksums, unreadable files and any rheobase override; its
recipe names the targets the run used (without rows left out for their errors).
Qt-free.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import TYPE_CHECKING

from efex_gui.app.extraction_review import left_out_targets
from efex_gui.core.export.outputs import (
    CURRENTS_FILE,
    FEATURES_FILE,
    PROTOCOLS_FILE,
    PROVENANCE_FILE,
    save_outputs,
    write_provenance,
)
from efex_gui.core.export.recipe import build_recipe, recording_metadata

if TYPE_CHECKING:
    from collections.abc import Callable

    from efex_gui.core.extraction.incremental import ExtractionResult
    from efex_gui.core.session.document import Session

__all__ = ["EXPORT_FILES", "PLOTS_JOB", "existing_export", "plots_job", "write_export"]

EXPORT_FILES = (FEATURES_FILE, PROTOCOLS_FILE, CURRENTS_FILE, PROVENANCE_FILE)
PLOTS_JOB = "Writing plots"


def existing_export(folder: str | Path) -> list[Path]:
    """List the export files already in ``folder``."""
    return [Path(folder) / n for n in EXPORT_FILES if (Path(folder) / n).exists()]


def write_export(
    result: ExtractionResult,
    session: Session,
    folder: str | Path,
    *,
    overwrite: bool = False,
) -> list[Path]:
    """Write ``result`` into ``folder``: three BluePyEfe files and the sidecar.

    Parameters
    ----------
    result : ExtractionResult
        An up-to-date result of ``session``.
    session : Session
        The session (for the inputs and exclusions of the sidecar).
    folder : str or Path
        Output folder (created if needed).
    overwrite : bool
        Replace an earlier export.

    Returns
    -------
    list of Path
        features, protocols, currents and provenance files.

    Raises
    ------
    FileExistsError
        ``folder`` holds an export and ``overwrite`` is False (nothing written).
    """
    existing = existing_export(folder)
    if existing and not overwrite:
        names = ", ".join(p.name for p in existing)
        raise FileExistsError(f"{folder} already holds an export ({names}).")
    written = save_outputs(
        folder, result.features, result.protocol_definitions, result.currents
    )
    settings = dict(result.settings)
    if result.rheobase_overrides:
        settings["rheobase_overrides"] = dict(result.rheobase_overrides)
        settings["computed_rheobase"] = dict(result.computed_rheobase)
    kwargs = session.to_extract_kwargs()
    given = {k: v for k, v in kwargs.items() if k not in ("files_metadata",)}
    if left_out_targets(session, result):  # rows with errors were left out
        given["targets"] = copy.deepcopy(result.targets)
    options = {"rheobase_overrides": dict(kwargs.get("rheobase_overrides") or {})}
    recipe = build_recipe(
        kwargs["files_metadata"],
        given,
        options,
        kwargs.get("recording_reader"),
        session.data_root,
    )
    written.append(
        write_provenance(
            folder,
            settings=settings,
            targets=result.targets,
            files_metadata=kwargs["files_metadata"],
            exclusions=session.exclusions.to_json(),
            switches={},
            skipped_files=result.skipped,
            recipe=recipe,
            recordings=recording_metadata(result.cells, recipe["data_root"]),
            qc=session.qc.to_dict(),
        )
    )
    return written


def plots_job(result: ExtractionResult, folder: str | Path) -> Callable[[], str]:
    """Make a function writing the PDF report of ``result`` (for the worker thread)."""
    efel_settings = result.settings["efel_settings"]

    def write() -> str:
        from efex_gui.core.recordings.traces import traces_reloaded
        from efex_gui.report import plot_all_recordings_efeatures

        recordings = [rec for cell in result.cells for rec in cell.recordings]
        with traces_reloaded(recordings):  # the run dropped them (memory)
            plot_all_recordings_efeatures(
                result.cells,
                result.protocols,
                output_dir=folder,
                mapper=map,
                efel_settings=efel_settings,
            )
        return str(folder)

    return write
