"""One log line per distinct warning per run, with a count at the end.

A run over hundreds of sweeps repeats the same warning (BluePyEfe's SpikeRec warning,
a unit guess, an efel message) with only the sweep changing. :class:`RepeatSummary`
is a :class:`logging.Filter`: the first record of each distinct message template
(the logger, the level and the unformatted message) goes through; the others are
counted, and :meth:`RepeatSummary.summary` gives one line per template seen more than
once. The CLI and the GUI attach it to their handler unless ``-v`` asks for every
line. Qt-free.
"""

from __future__ import annotations

import logging
from collections import Counter

__all__ = ["RepeatSummary"]


class RepeatSummary(logging.Filter):
    """Let the first record of each message template through; count the repeats."""

    def __init__(self) -> None:
        super().__init__()
        self.counts: Counter[tuple[str, int, str]] = Counter()
        self.first: dict[tuple[str, int, str], str] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        """Keep only the first record of each template (errors always pass)."""
        if record.levelno >= logging.ERROR:
            return True
        key = (record.name, record.levelno, str(record.msg))
        self.counts[key] += 1
        if self.counts[key] == 1:
            self.first[key] = record.getMessage()
            return True
        return False

    def summary(self) -> list[tuple[int, str]]:
        """``(level, line)`` per repeated template, in first-seen order."""
        return [
            (key[1], f"{self.first[key]} [and {n - 1} more like it; -v shows all]")
            for key, n in self.counts.items()
            if n > 1
        ]

    def log_summary(self, handler: logging.Handler) -> None:
        """Emit the summary lines through ``handler`` (bypassing this filter)."""
        for level, line in self.summary():
            record = logging.LogRecord("efex_gui", level, "", 0, line, None, None)
            handler.emit(record)
