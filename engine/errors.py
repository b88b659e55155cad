"""User-facing errors.

Every problem a user can cause (a bad file, a wrong option, a missing device) is raised as a
:class:`CardiganError` whose message is one plain line. The CLI prints that line and exits
non-zero; the app shows it in a dialog or the status bar (:func:`one_line`). Anything else
is a bug.
"""

from __future__ import annotations

import sys
import traceback


class CardiganError(Exception):
    """A problem the user can fix; ``str(error)`` is a complete one-line explanation."""


class MaskError(CardiganError):
    """A label map that cannot be used (bad values, wrong size, unreadable file)."""


class ModelFileError(CardiganError):
    """A model file that is missing, damaged, unsafe or of an unknown kind."""


class DeviceError(CardiganError):
    """A compute device that was asked for but is not available."""


class DataError(CardiganError):
    """A dataset or source folder that cannot be read or written."""


def one_line(exc: BaseException, what: str = "the task") -> str:
    """The line a user sees when ``what`` raised ``exc``: a CardiganError's own message; for
    anything else (a bug, or the machine's fault) the traceback goes to stderr and the line
    names the file and reason of an OSError, else the exception's type and first words."""
    if isinstance(exc, CardiganError):
        return str(exc)
    traceback.print_exception(type(exc), exc, exc.__traceback__, file=sys.stderr)
    text = " ".join(str(exc).split())
    if isinstance(exc, OSError) and exc.filename:
        return f"{exc.filename}: {exc.strerror or text}"
    return f"{what} failed ({type(exc).__name__}{': ' + text[:160] if text else ''})"


def itk_reason(exc: BaseException, default: str) -> str:
    """The reason in a SimpleITK error, for a one-line message: ITK's messages run over
    several lines (file, line number, class) and end with what went wrong, so the last
    non-blank line, at most 140 characters; ``default`` when the message is empty."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return lines[-1][:140] if lines else default
