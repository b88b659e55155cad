"""User-facing errors.

Every problem a user can cause (a bad file, a wrong option, a missing device) is raised as a
:class:`CardiganError` whose message is one plain line. The CLI prints that line and exits
non-zero; the app shows it in a dialog or the status bar (:func:`one_line`). Anything else
is a bug.

Advice in a message ("use --overwrite", "--size 100: ...") is said in the command line's
words, which a front end with its own controls would say otherwise. Such words are an
:class:`Advice` inside a :class:`Message`: ``str(message)`` reads as the command line says
it, and ``message.said(words)`` puts a front end's words in its place, looked up by the
advice's key, never by the command line's text, so rewording the command line breaks no
front end. A :class:`CardiganError` raised with a Message keeps it (:meth:`CardiganError.said`).
A message crosses to another process as JSON (:func:`message_parts`, :func:`message_from_parts`)
with its advice, so the process that shows it says it in its own words.
"""

from __future__ import annotations

import sys
import traceback
from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Advice:
    """Words of a message that name a command-line option or tell how to use one: ``key``
    is what a front end's table of words is keyed by (advice is equal by key alone), ``cli``
    the command line's words."""

    key: str
    cli: str = field(compare=False)

    def __str__(self) -> str:
        return self.cli


Words = Mapping[Advice, str]  # a front end's words for advice, by key


def option(parameter: str) -> Advice:
    """The command line's name of the engine parameter ``parameter`` ("style_scale" ->
    "--style-scale"), keyed by the parameter's name: a front end says its control's name."""
    return Advice(f"option {parameter}", "--" + parameter.replace("_", "-"))


# advice messages give in more than one place, in the command line's words
USE_OVERWRITE = Advice("use overwrite", "use --overwrite")
OTHER_DEVICE = Advice("other device", "use --device cpu or auto")


class Message(str):
    """A one-line message some of whose words are :class:`Advice`: as a ``str``, the command
    line's wording; :meth:`said` gives it in a front end's words."""

    parts: tuple[str | Advice, ...]

    def __new__(cls, *parts: str | Advice) -> Message:
        flat: list[str | Advice] = []
        for part in parts:
            flat.extend(part.parts if isinstance(part, Message) else [part])
        message = super().__new__(cls, "".join(map(str, flat)))
        message.parts = tuple(flat)
        return message

    def said(self, words: Words) -> str:
        """The message with ``words`` for its advice (the command line's where ``words`` has none)."""
        return "".join(words.get(part, part.cli) if isinstance(part, Advice) else part for part in self.parts)

    def gives(self, advice: Advice) -> bool:
        """Whether ``advice`` is among the message's advice, found by its key (words that only
        read like it do not count)."""
        return any(isinstance(part, Advice) and part.key == advice.key for part in self.parts)


def already_exists(path: object, replaced: str = "it", other: str = "file", how: str = "") -> Message:
    """The one wording of an output that exists and is not replaced without --overwrite:
    "PATH: already exists (use --overwrite to replace it, or choose another file)". ``path``
    is what the message names first (``"--out x.png"`` or the path), ``replaced`` what
    --overwrite would replace, ``other`` what to choose instead ("file" or "folder"), ``how``
    what more is wrong (" and is not empty"). The --overwrite advice is :data:`USE_OVERWRITE`,
    so a front end says how it replaces the output."""
    return Message(f"{path}: already exists{how} (", USE_OVERWRITE, " to replace ", replaced,
                   f", or choose another {other})")


def message_parts(message: str) -> list[str | dict[str, str]]:
    """``message`` as JSON-friendly parts: its text as strings, each advice as
    ``{"key": ..., "cli": ...}`` (plain text is one part)."""
    parts = message.parts if isinstance(message, Message) else (str(message),)
    return [{"key": part.key, "cli": part.cli} if isinstance(part, Advice) else part for part in parts]


def message_from_parts(parts: list | tuple) -> Message:
    """The :class:`Message` that :func:`message_parts` gave ``parts`` of."""
    return Message(*(Advice(part["key"], part["cli"]) if isinstance(part, dict) else str(part)
                     for part in parts))


def said(message: str, words: Words) -> str:
    """``message`` in a front end's ``words`` when it is a :class:`Message`, else as it is."""
    return message.said(words) if isinstance(message, Message) else message


class CardiganError(Exception):
    """A problem the user can fix; ``str(error)`` is a complete one-line explanation, in the
    command line's words; :meth:`said` in a front end's."""

    @property
    def message(self) -> Message:
        """The message as raised: a :class:`Message` with its advice, or plain text as one."""
        given = self.args[0] if len(self.args) == 1 else None
        return given if isinstance(given, Message) else Message(str(self))

    def said(self, words: Words) -> str:
        return self.message.said(words)


class MaskError(CardiganError):
    """A label map that cannot be used (bad values, wrong size, unreadable file)."""


class ModelFileError(CardiganError):
    """A model file that is missing, damaged, unsafe or of an unknown kind."""


class DeviceError(CardiganError):
    """A compute device that was asked for but is not available."""


class DataError(CardiganError):
    """A dataset or source folder that cannot be read or written."""


def one_line(exc: BaseException, what: str = "the task", words: Words | None = None) -> str:
    """The line a user sees when ``what`` raised ``exc``: a CardiganError's own message (its
    advice in ``words``, a front end's, when given); for anything else (a bug, or the
    machine's fault) the traceback goes to stderr and the line names the file and reason of
    an OSError, else the exception's type and first words."""
    if isinstance(exc, CardiganError):
        return exc.said(words or {})
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
