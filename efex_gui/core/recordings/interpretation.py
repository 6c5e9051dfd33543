"""When a recording cannot be interpreted: guess its eCode, keep its raw traces.

Used by :func:`efex_gui.core.session.dataset.load_config` (the GUI's reading path; the
BluePyEfe-compatible API keeps raising on an unknown eCode):

* an unknown protocol name gets an eCode from other labs' names or from the stimulus
  (:mod:`efex_gui.core.recordings.ecodes.names`), with a note the person sees;
* an entry or sweep that still cannot be interpreted keeps its raw voltage and current
  (:mod:`efex_gui.core.readers.raw`) with the reason in the user's language and the
  kind of fix (:data:`FIXES`) the GUI offers as a button.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from efex_gui.core.errors import (
    EfexError,
    MetadataError,
    MissingMetadataError,
    NotARecordingError,
    UnitError,
)
from efex_gui.core.readers.raw import RAW_ONLY, RawTrace, raw_trace

if TYPE_CHECKING:
    from efex_gui.core.readers._common import Reader, TraceDict

#: fix kind -> what the button does
FIXES = {
    "ecode": "choose the eCode that interprets this protocol",
    "text": "say what the text file's columns are, with a preview",
    "metadata": "enter the missing metadata (units, dt, ton/toff/amp)",
    "not_recording": "exclude the file: it is not a current-clamp recording",
    "exclude": "exclude the file: it cannot be read",
}


def fix_for(exc: BaseException) -> str:
    """Return the fix kind for an error (see :data:`FIXES`)."""
    if isinstance(exc, NotARecordingError):
        return "not_recording"
    if isinstance(exc, MissingMetadataError):
        return "text"
    if isinstance(exc, MetadataError | UnitError):
        return "metadata"
    if isinstance(exc, EfexError) and "ecode" in type(exc).__name__.lower():
        return "ecode"
    text = str(exc)
    if "in the metadata" in text or "not configured" in text:
        return "metadata"
    return "exclude" if isinstance(exc, EfexError) else "metadata"


def guess_entry_ecode(
    protocol: str, traces: list[TraceDict]
) -> tuple[type | None, str]:
    """Guess an eCode class for an unknown protocol name, and the note to show.

    Returns
    -------
    tuple
        ``(class or None, note)``: the note says what was guessed and why, or why
        nothing could be.
    """
    from efex_gui.core.recordings.ecodes import eCodes
    from efex_gui.core.recordings.ecodes.names import guess_ecode

    current = next(
        (t.get("current") for t in traces if t.get("current") is not None), None
    )
    guess = guess_ecode(protocol, current)
    if guess.ecode is None:
        return None, f"No eCode for protocol '{protocol}': {guess.reason}."
    cls = next(c for c in eCodes.values() if c.__name__ == guess.ecode)
    return cls, (
        f"eCode {guess.ecode} guessed ({guess.reason}); confirm or change it with "
        "'Choose eCode'."
    )


def raw_traces(config: dict[str, Any], reader: Reader) -> list[RawTrace]:
    """Read the file's channels as they are (no refusal, no stimulus needed), or []."""
    try:
        traces = reader({**config, RAW_ONLY: True})
    except Exception:  # nothing to draw: the reason is shown anyway
        return []
    out = []
    for trace in traces:
        try:
            out.append(raw_trace(trace, config))
        except Exception:  # a trace without samples
            continue
    return out
