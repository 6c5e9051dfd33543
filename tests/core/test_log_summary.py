"""One line per distinct warning, with a count."""

from __future__ import annotations

import io
import logging

from efex_gui.core.log_summary import RepeatSummary


def test_repeated_warnings_show_once_then_a_count() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    repeats = RepeatSummary()
    handler.addFilter(repeats)
    log = logging.getLogger("efex_gui.test_log_summary")
    log.addHandler(handler)
    log.propagate = False
    try:
        for sweep in range(2000):
            log.warning("SpikeRec sweep %d: matched on delta", sweep)
        log.warning("another warning")
        log.error("errors always show %d", 1)
        log.error("errors always show %d", 2)
        repeats.log_summary(handler)
    finally:
        log.removeHandler(handler)
    lines = stream.getvalue().splitlines()
    assert lines == [
        "SpikeRec sweep 0: matched on delta",
        "another warning",
        "errors always show 1",
        "errors always show 2",
        "SpikeRec sweep 0: matched on delta [and 1999 more like it; -v shows all]",
    ]


def test_cli_has_a_verbose_switch() -> None:
    from efex_gui.cli import build_parser

    args = build_parser().parse_args(["extract", "x.json", "-o", "out", "-v"])
    assert args.verbose
