"""The error types efex_gui raises on purpose.

Every error that reaches a user derives from :class:`EfexError` and names the file,
cell, protocol or key it is about, so one bad input can be reported and skipped while
the rest of the work goes on.
"""

from __future__ import annotations


class EfexError(Exception):
    """Base class of every error efex_gui raises on purpose."""


class ReaderError(EfexError):
    """A recording file could not be read (corrupt, truncated, unknown format).

    Parameters
    ----------
    path : str
        The file that failed.
    reason : str
        What is wrong with it, in words a user can act on.
    """

    def __init__(self, path: str, reason: str) -> None:
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")


class NotARecordingError(ReaderError):
    """A readable file that holds no current-clamp recording to extract from.

    Parameters
    ----------
    path : str
        The file.
    kind : str
        What the file is, in a few words ("voltage clamp", "no continuous signal",
        "a stimulus template").
    detail : str
        What it holds ("11 records of membrane current").
    """

    def __init__(self, path: str, kind: str, detail: str) -> None:
        self.kind = kind
        self.detail = detail
        super().__init__(path, f"{kind}: {detail}; not a current-clamp recording")


class MetadataError(EfexError, KeyError):
    """A files_metadata entry is missing a key or holds an impossible value.

    Also a ``KeyError`` so scripts written against BluePyEfe's readers (which raise
    ``KeyError`` for missing metadata) keep working.
    """

    def __str__(self) -> str:  # KeyError quotes its message; we do not.
        return str(self.args[0]) if self.args else ""


class MissingMetadataError(MetadataError):
    """Several metadata keys a file needs are missing: all of them, named at once.

    Parameters
    ----------
    path : str
        The file.
    missing : list of str
        The keys to give, in the order a form should ask for them.
    message : str
        The sentence for the person.
    """

    def __init__(self, path: str, missing: list[str], message: str) -> None:
        self.path = str(path)
        self.missing = list(missing)
        super().__init__(message)


class UnitError(EfexError, ValueError):
    """A unit string is unknown or a trace's values do not fit its declared unit."""


class ECodeError(EfexError, KeyError):
    """No eCode matches a protocol name, or a stimulus cannot be interpreted."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class TargetError(EfexError, ValueError):
    """A target is impossible: negative tolerance, unknown feature, unknown protocol."""


class SettingsError(EfexError, ValueError):
    """An extraction setting is impossible (unknown strategy, bad value, ...)."""


class Cancelled(EfexError):  # noqa: N818 (a state, not an error)
    """A long task was cancelled by its caller; partial results were discarded."""


class RheobaseSettingsError(SettingsError, TypeError):
    """A ``rheobase_settings`` key the strategy does not take.

    Also a ``TypeError``, what BluePyEfe raises (an unexpected keyword argument).
    """
