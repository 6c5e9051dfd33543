"""``efex``: the command line face of efex_gui.

Subcommands::

    efex extract CONFIG|FOLDER -o OUT [--targets TARGETS.json] [--workers N |
                               --dask ADDRESS] [--plot] [--per-cell] [--low-memory]
                               [--strict] [--data-root DIR] [--quiet] [--overwrite]
                               [--no-cache]
    efex rheobase PATH [--json] [--workers N | --dask ADDRESS] [--data-root DIR]
    efex inspect PATH [PATH ...] [--json]
    efex summary PATH [--json] [-o FILE] [--protocols MAP] [--data-root DIR] [--quiet]
    efex demo -o DIR [--cells N] [--seed S] [--workers N | --dask ADDRESS] [--quiet]

CONFIG is an inputs document, a BluePyEfe 0.x configuration or a GUI session
(:mod:`efex_gui.cli_config`); a FOLDER is imported as the GUI imports it by default
(preset name pattern guessed, each protocol's consensus stimulus window); a PATH is any
of these or a recording file (``efex summary`` also takes a bare folder). ``--json``
documents of inspect/rheobase: :mod:`efex_gui.cli_inspect`. Results go to stdout,
progress bars (tqdm) and warnings to stderr; ``--quiet`` keeps only errors. Exit codes:
0 success, 1 the run failed, 2 bad usage or configuration (the message names the key),
3 partial success (some files could not be read and were skipped). An existing result
in the output folder is never replaced without ``--overwrite``; the summary ends with
each cell's warnings.
Per-sweep efel values are kept in the persistent feature cache
(:mod:`efex_gui.core.extraction.feature_store`; ``EFEX_CACHE_DIR``), so a second
run on the same data skips efel; ``--no-cache`` bypasses it.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import sys
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

from efex_gui import __version__
from efex_gui.cli_config import RunConfig, load_run_config
from efex_gui.cli_runtime import (
    Progress,
    describe_file,
    format_table,
    mapper,
    native_output,
    rheobase_rows,
)
from efex_gui.core.errors import (
    Cancelled,
    ECodeError,
    EfexError,
    MetadataError,
    SettingsError,
    TargetError,
    UnitError,
)
from efex_gui.core.log_summary import RepeatSummary
from efex_gui.core.recordings.checks import format_warnings

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Sequence

EXIT_OK, EXIT_FAILURE, EXIT_USAGE, EXIT_PARTIAL = 0, 1, 2, 3
RESULT_FILES = ("features.json", "protocols.json", "holding_threshold_currents.json")
_USAGE_ERRORS = (MetadataError, SettingsError, TargetError, UnitError, ECodeError)


def _out(text: str = "") -> None:
    sys.stdout.write(text + "\n")


def _err(text: str) -> None:
    sys.stderr.write(f"efex: error: {text}\n")


def _log_stream(stack: contextlib.ExitStack) -> Any:
    """Return the stderr stream for log records.

    It is on its own descriptor when stderr is the real fd 2, so records still show
    while :func:`native_output` silences fd 2.
    """
    with contextlib.suppress(AttributeError, OSError, ValueError):
        if sys.stderr.fileno() == 2:
            sys.stderr.flush()
            return stack.enter_context(os.fdopen(os.dup(2), "w", buffering=1))
    return sys.stderr


@contextlib.contextmanager
def _console(quiet: bool, verbose: bool = False) -> Iterator[None]:
    """Send efex_gui's log records and Python warnings to stderr during a command.

    Unless ``verbose``, each distinct warning is shown once, and repeated ones are
    counted in one line at the end (:class:`RepeatSummary`).
    """
    logger = logging.getLogger("efex_gui")
    old_level, old_propagate = logger.level, logger.propagate
    with contextlib.ExitStack() as stack, warnings.catch_warnings():
        handler = logging.StreamHandler(_log_stream(stack))
        handler.setFormatter(logging.Formatter("efex: %(levelname)s: %(message)s"))
        repeats = RepeatSummary()
        if not verbose:
            handler.addFilter(repeats)
        logger.addHandler(handler)
        logger.setLevel(logging.ERROR if quiet else logging.WARNING)
        logger.propagate = False
        if quiet:
            warnings.simplefilter("ignore")
        elif not verbose:  # efel's and numpy's numerical noise: -v shows it
            warnings.filterwarnings("ignore", module=r"(efel|numpy)(\.|$)")
        efel_logger = logging.getLogger("efel")
        old_efel_level = efel_logger.level
        if not verbose:
            efel_logger.setLevel(logging.ERROR)
        try:
            yield
        finally:
            if not quiet:
                repeats.log_summary(handler)
            efel_logger.setLevel(old_efel_level)
            logger.removeHandler(handler)
            logger.setLevel(old_level)
            logger.propagate = old_propagate


# --- extract ----------------------------------------------------------------------


def _from_provenance(output: Path, key: str, default: Any) -> Any:
    """One entry of the run's ``efex_provenance.json`` (``default`` if absent)."""
    sidecar = output / "efex_provenance.json"
    if not sidecar.is_file():
        return default
    try:
        return json.loads(sidecar.read_text(encoding="utf-8")).get(key, default)
    except (OSError, ValueError):
        return default


def _check_overwrite(output: Path, args: argparse.Namespace) -> None:
    """Refuse to replace the results of an earlier run unless ``--overwrite``."""
    existing = [name for name in RESULT_FILES if (output / name).exists()]
    if existing and not getattr(args, "overwrite", False):
        raise SettingsError(
            f"{output} already holds results ({', '.join(existing)}): give "
            "--overwrite to replace them, or another -o folder."
        )


def run_extract(
    config: RunConfig,
    output: Path,
    args: argparse.Namespace,
) -> tuple[tuple[dict[str, Any], dict[str, Any], dict[str, Any]], list[list[str]]]:
    """Run ``extract_efeatures`` for a loaded configuration, writing into ``output``.

    Returns the three output dicts and the ``(cell, path, reason)`` of skipped files.
    """
    from efex_gui.core.extraction.feature_store import open_default_store
    from efex_gui.core.extraction.pipeline import extract_efeatures

    kwargs = dict(config.kwargs)
    for flag, key in (
        ("plot", "plot"),
        ("per_cell", "extract_per_cell"),
        ("low_memory", "low_memory_mode"),
    ):
        if getattr(args, flag, False):
            kwargs[key] = True
    if config.exclusions is not None:
        kwargs["exclusions"] = config.exclusions
    if kwargs.get("plot"):  # the core never plots; matplotlib only when asked
        from efex_gui.report import plot_extraction

        kwargs["plotter"] = plot_extraction
    kwargs["feature_store"] = open_default_store(not getattr(args, "no_cache", False))
    progress = Progress("extracting", enabled=not args.quiet)
    with (
        native_output(args.quiet, getattr(args, "verbose", False)),
        mapper(args.workers, args.dask) as map_function,
        progress,
    ):
        outputs = extract_efeatures(
            str(output),
            write_files=True,
            map_function=map_function,
            progress=progress,
            strict=args.strict,
            **kwargs,
        )
    return outputs, list(_from_provenance(output, "skipped_files", []))


def _summary(
    outputs: tuple[dict[str, Any], dict[str, Any], dict[str, Any]],
    output: Path,
    skipped: list[Any],
) -> None:
    features, _protocols, currents = outputs
    n_values = sum(len(entry.get("soma", [])) for entry in features.values())
    _out(f"{len(features)} protocols, {n_values} features")
    for cell, value in currents.get("all_threshold_current", {}).items():
        _out(f"  rheobase {cell}: {value:.4f} nA")
    for cell, path, reason in skipped:
        _out(f"  skipped ({cell}) {path}: {reason}")
    _out(f"results in {output}:")
    for name in RESULT_FILES:
        _out(f"  {output / name}")
    warnings_by_cell = _from_provenance(output, "warnings", {})
    if warnings_by_cell:
        _out("warnings (details in efex_provenance.json):")
        for line in format_warnings(warnings_by_cell):
            _out(line)


def _output_folder(args: argparse.Namespace, config: RunConfig) -> Path:
    if args.output is not None:
        return Path(args.output).absolute()
    if config.output_directory is not None:
        return config.output_directory
    raise SettingsError(
        "no output folder: give -o OUT (or 'output_directory' in CONFIG)."
    )


def _run_config(args: argparse.Namespace) -> RunConfig:
    """Build the configuration of ``efex extract``: a CONFIG, or a FOLDER imported."""
    from efex_gui.cli_inspect import load_path

    source = Path(args.config).absolute()
    if source.is_dir():
        loaded = load_path(source)
        config = RunConfig(source, "folder", loaded.kwargs)
    else:
        config = load_run_config(args.config, args.data_root)
    if getattr(args, "targets", None):
        config.kwargs["targets"] = _read_targets(Path(args.targets).absolute())
        config.kwargs.pop("auto_targets", None)  # the folder's, not used
    return config


def _read_targets(path: Path) -> Any:
    """Read ``--targets``: a list, a legacy dict, or ``{"targets": ...}``."""
    try:
        targets = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise SettingsError(
            f"--targets {path}: not a readable JSON file ({exc})."
        ) from exc
    if isinstance(targets, dict) and "targets" in targets:
        targets = targets["targets"]
    if not isinstance(targets, list | dict):
        raise SettingsError(f"--targets {path}: expected a list of targets.")
    return targets


def cmd_extract(args: argparse.Namespace) -> int:
    """``efex extract``."""
    config = _run_config(args)
    output = _output_folder(args, config)
    _check_overwrite(output, args)
    outputs, skipped = run_extract(config, output, args)
    if not args.quiet:
        _summary(outputs, output, skipped)
    return EXIT_PARTIAL if skipped else EXIT_OK


# --- rheobase ---------------------------------------------------------------------


def cmd_rheobase(args: argparse.Namespace) -> int:
    """``efex rheobase``: print each cell's rheobase (writes nothing)."""
    from efex_gui.cli_inspect import load_path, rheobase_document
    from efex_gui.core.extraction.read_and_extract import (
        read_with_rheobase,
        skipped_files,
    )

    kwargs = load_path(args.config, args.data_root).kwargs
    progress = Progress("reading", enabled=not args.quiet)
    with (
        native_output(args.quiet, getattr(args, "verbose", False)),
        mapper(args.workers, args.dask) as map_function,
        progress,
    ):
        cells, protocols = read_with_rheobase(
            kwargs, map_function, progress=progress, strict=args.strict
        )
    skipped = skipped_files(cells)
    if args.json:
        strategy = kwargs.get("rheobase_strategy", "absolute")
        _out(json.dumps(rheobase_document(cells, strategy), indent=2))
        return EXIT_PARTIAL if skipped else EXIT_OK
    _out(format_table(rheobase_rows(cells, protocols)))
    for cell, path, reason in skipped:
        _out(f"skipped ({cell}) {path}: {reason}")
    return EXIT_PARTIAL if skipped else EXIT_OK


# --- inspect ----------------------------------------------------------------------


def _inspect_json(args: argparse.Namespace) -> int:
    """``efex inspect --json``: files and recordings as the extraction sees them."""
    from efex_gui.cli_inspect import all_files, inspect_document, load_path
    from efex_gui.core.extraction.read_and_extract import read_recordings
    from efex_gui.core.extraction.request import RunExtras

    loaded, cells, failed = [], [], 0
    for path in args.files:
        try:
            item = load_path(path)
        except EfexError as exc:
            _err(str(exc))
            failed += 1
            continue
        kwargs = item.kwargs
        try:
            with native_output(args.quiet):
                read = read_recordings(
                    kwargs.get("files_metadata") or {},
                    kwargs.get("recording_reader"),
                    map,
                    kwargs.get("efel_settings"),
                    RunExtras(consensus_timing=bool(kwargs.get("consensus_timing"))),
                )
        except EfexError as exc:  # e.g. no eCode for a protocol: the files refused
            for file in all_files(kwargs.get("files_metadata") or {}):
                item.refused.setdefault(file, str(exc))
            read = []
        loaded.append(item)
        cells.append(read)
    document = inspect_document(loaded, cells)
    _out(json.dumps(document, indent=2))
    refused = any(f["status"] == "refused" for f in document["files"])
    if failed:
        return EXIT_FAILURE if failed == len(args.files) else EXIT_PARTIAL
    return EXIT_PARTIAL if refused else EXIT_OK


def cmd_inspect(args: argparse.Namespace) -> int:
    """``efex inspect``: what a reader sees in each file (``--json``: see above)."""
    from efex_gui.core.readers import inspect_file

    if args.json:
        return _inspect_json(args)
    failed = 0
    for path in args.files:
        try:
            _out("\n".join(describe_file(inspect_file(str(path)))))
        except EfexError as exc:
            _err(str(exc))
            failed += 1
    if failed:
        return EXIT_FAILURE if failed == len(args.files) else EXIT_PARTIAL
    return EXIT_OK


# --- summary ----------------------------------------------------------------------


def _summary_rows(summaries: list[Any]) -> list[tuple[str, ...]]:
    from efex_gui.core.analysis.summary_io import summary_table

    table = summary_table(summaries)
    width = 1 + (len(table[0]) - 2) // 2  # cell + the measures
    rows = [tuple(str(v) for v in table[0][:width])]
    for row in table[1:]:
        values = (f"{v:.4g}" if isinstance(v, float) else "-" for v in row[1:width])
        rows.append((str(row[0]), *values))
    return rows


def cmd_summary(args: argparse.Namespace) -> int:
    """``efex summary``: the cell summary (rheobase, Rin, RMP, tau, sag, f-I, AP)."""
    from efex_gui.cli_inspect import load_path
    from efex_gui.core.analysis.protocol_map import MeasureProtocols
    from efex_gui.core.analysis.summary_io import (
        summarize_run,
        summary_document,
        write_summary,
    )
    from efex_gui.core.extraction.read_and_extract import skipped_files

    # the same import as inspect / rheobase / extract FOLDER: a folder gets the
    # GUI's default import and each protocol's consensus stimulus window
    config = load_path(args.path, args.data_root)
    protocols = None
    if args.protocols:
        from efex_gui.cli_config import read_document

        protocols = MeasureProtocols.from_dict(read_document(args.protocols))
    elif config.lab_protocols is not None:  # a folder: its steps, by their eCode
        protocols = config.lab_protocols
    with native_output(args.quiet):
        summaries, cells = summarize_run(config.kwargs, protocols)
    if args.output:
        path = write_summary(summaries, args.output)
        if not args.quiet:
            _out(f"cell summary of {len(summaries)} cells written to {path}")
    if args.json:
        _out(json.dumps(summary_document(summaries), indent=2))
    elif not args.output:
        _out(format_table(_summary_rows(summaries)))
    skipped = skipped_files(cells)
    if skipped:
        cell, file, reason = skipped[0]
        _err(f"{len(skipped)} files skipped, the first ({cell}) {file}: {reason}")
    return EXIT_PARTIAL if skipped else EXIT_OK


# --- demo -------------------------------------------------------------------------


def cmd_demo(args: argparse.Namespace) -> int:
    """``efex demo``: write the synthetic dataset, then extract it."""
    from efex_gui.core.synthetic.demo import write_demo_dataset

    folder = Path(args.output).absolute()
    _check_overwrite(folder / "efeatures", args)
    write_demo_dataset(folder, n_cells=args.cells, seed=args.seed)
    config = load_run_config(folder / "config.json")
    output = folder / "efeatures"
    outputs, skipped = run_extract(config, output, args)
    if not args.quiet:
        _out(f"demo dataset ({args.cells} simulated cells) in {folder}:")
        _out(f"  config: {folder / 'config.json'}")
        _summary(outputs, output, skipped)
    return EXIT_PARTIAL if skipped else EXIT_OK


# --- parser and entry point -------------------------------------------------------


def _run_options(parser: argparse.ArgumentParser) -> None:
    parallel = parser.add_mutually_exclusive_group()
    parallel.add_argument(
        "--workers",
        type=int,
        default=None,
        metavar="N",
        help="read and extract cells in N processes",
    )
    parallel.add_argument(
        "--dask",
        default=None,
        metavar="ADDRESS",
        help="run cells on a dask.distributed scheduler "
        "('local' or 'local:N' starts a local cluster)",
    )
    parser.add_argument(
        "--strict",
        action="store_true",
        help="stop at the first unreadable file instead of skipping it",
    )
    parser.add_argument(
        "--no-cache",
        action="store_true",
        help="neither read nor write the persistent feature cache "
        "(default: EFEX_CACHE_DIR or the user cache folder)",
    )
    parser.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        help="no progress bars, warnings or summary",
    )
    parser.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="every warning line (not one per distinct warning with a count) and "
        "efel's / LAPACK's own messages",
    )


def build_parser() -> argparse.ArgumentParser:
    """Build the ``efex`` argument parser."""
    parser = argparse.ArgumentParser(prog="efex", description=__doc__.split("\n")[0])
    parser.add_argument("--version", action="version", version=f"efex {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    extract = sub.add_parser("extract", help="extract e-features (BluePyEfe outputs)")
    extract.add_argument(
        "config", help="inputs JSON/YAML, legacy config, session, or a folder"
    )
    extract.add_argument("-o", "--output", default=None, help="output folder")
    extract.add_argument(
        "--targets", default=None, help="targets JSON (list, or legacy dict)"
    )
    extract.add_argument(
        "--data-root", default=None, help="folder relative file paths start from"
    )
    extract.add_argument("--plot", action="store_true", help="also write PDF plots")
    extract.add_argument(
        "--per-cell", action="store_true", help="also write per-cell outputs"
    )
    extract.add_argument(
        "--low-memory",
        action="store_true",
        help="drop traces once their features are computed",
    )
    _run_options(extract)
    rheobase = sub.add_parser("rheobase", help="print each cell's rheobase")
    rheobase.add_argument("config", metavar="PATH")
    rheobase.add_argument("--data-root", default=None)
    rheobase.add_argument("--json", action="store_true", help="print JSON")
    _run_options(rheobase)
    inspect = sub.add_parser("inspect", help="what a reader sees in recording files")
    inspect.add_argument("files", nargs="+", metavar="PATH")
    inspect.add_argument("--json", action="store_true", help="print JSON")
    inspect.add_argument("-q", "--quiet", action="store_true")
    summary = sub.add_parser(
        "summary", help="per-cell summary: rheobase, Rin, RMP, tau, sag, f-I, AP"
    )
    summary.add_argument(
        "path", help="folder of recordings, inputs/legacy config or session"
    )
    summary.add_argument(
        "--json", action="store_true", help="print the summary as JSON"
    )
    summary.add_argument(
        "-o", "--output", default=None, help="write it to FILE (.csv, .json or .xlsx)"
    )
    summary.add_argument(
        "--protocols",
        default=None,
        metavar="MAP",
        help="JSON {measure: [protocol, ...]} replacing the default protocols",
    )
    summary.add_argument(
        "--data-root", default=None, help="folder relative file paths start from"
    )
    summary.add_argument("-q", "--quiet", action="store_true", help="only errors")
    demo = sub.add_parser(
        "demo", help="write the synthetic demo dataset and extract it"
    )
    demo.add_argument("-o", "--output", required=True, help="folder to write")
    demo.add_argument("--cells", type=int, default=3, help="number of cells (3)")
    demo.add_argument("--seed", type=int, default=0, help="random seed (0)")
    demo.add_argument("--plot", action="store_true", help="also write PDF plots")
    _run_options(demo)
    for command in (extract, demo):
        command.add_argument(
            "--overwrite", action="store_true", help="replace earlier results in OUT"
        )
    return parser


COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "extract": cmd_extract,
    "rheobase": cmd_rheobase,
    "inspect": cmd_inspect,
    "summary": cmd_summary,
    "demo": cmd_demo,
}


def _exit_code(exc: BaseException) -> int:
    if isinstance(exc, _USAGE_ERRORS):
        return EXIT_USAGE
    return EXIT_FAILURE


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``efex`` with ``argv`` (default: the process arguments).

    Returns
    -------
    int
        The exit code: 0 ok, 1 failure, 2 usage or configuration error, 3 partial.
    """
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version, usage errors
        return int(exc.code or 0)
    if getattr(args, "workers", None) is not None and args.workers < 1:
        _err(f"--workers must be at least 1, got {args.workers}")
        return EXIT_USAGE
    with _console(args.quiet, getattr(args, "verbose", False)):
        try:
            return COMMANDS[args.command](args)
        except KeyboardInterrupt:
            _err("interrupted")
            return 130
        except Cancelled as exc:
            _err(str(exc))
            return EXIT_FAILURE
        except Exception as exc:  # one clear line, whatever went wrong
            message = (
                str(exc)
                if isinstance(exc, EfexError)
                else (f"{type(exc).__name__}: {exc}")
            )
            _err(message)
            return _exit_code(exc)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
