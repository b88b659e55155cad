"""Arguments several subcommands share, worded once."""

from __future__ import annotations

import argparse
import contextlib


MODEL_KINDS = ("demo, simulator, a .safetensors model, a training run folder (its model.safetensors), "
               "or an NVlabs *_net_G.pth or its checkpoint folder")


def add_model_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", required=True, type=model_name, help=MODEL_KINDS)


def non_empty_value(what: str, advice: str):
    """An argparse type: text that is not empty or blank, refused naming ``what`` with
    ``advice``. For an optional path whose empty value would otherwise read as the option left
    out (a warm start silently dropped) or as the working folder."""

    def parse(text: str) -> str:
        if not text.strip():
            raise argparse.ArgumentTypeError(f"the {what} is empty; {advice}")
        return text

    parse.__name__ = what
    return parse


# an argparse type: a model's name or path, refused when empty (an empty path would name the
# working folder)
model_name = non_empty_value("model name", f"give {MODEL_KINDS}")


@contextlib.contextmanager
def named_by_option(parameter: str):
    """Refusals raised inside (a file that cannot be read, "X: no such file") led by the
    option that gave it (``--ed X: no such file``), as the command line's other refusals
    are; one that names the option already is left as it is."""
    from ..errors import CardiganError, Message, option

    try:
        yield
    except CardiganError as exc:
        if exc.message.gives(option(parameter)):
            raise
        raise type(exc)(Message(option(parameter), " ", exc.message)) from None


def read_mask(path, parameter: str = "mask"):
    """The label map at ``path``; its refusal names the option ``parameter`` (--mask)."""
    from ..maskio import read_label_map

    with named_by_option(parameter):
        return read_label_map(path)


def add_device_argument(parser: argparse.ArgumentParser, default: str | None = "auto",
                        said: str | None = None) -> None:
    """``--device``; ``said`` is the default in words where the parser's is None (a command
    that resolves it later, as train from its preset or run)."""
    said = said or default
    parser.add_argument("--device", default=default, help="auto, cpu, cuda, cuda:N or mps"
                        + (f" (default {said})" if said else ""))


def check_output_file(path, flag: str = "--out") -> None:
    """Refuse, before any work, an output file whose folder is missing or that is a folder."""
    from pathlib import Path

    from ..errors import CardiganError

    path = Path(path)
    if path.is_dir():
        raise CardiganError(f"{flag} {path}: is a folder; name a file")
    if not path.parent.is_dir():
        raise CardiganError(f"{flag} {path}: the folder {path.parent} does not exist")


def check_dataset_folder(data, flag: str = "--data", split: str | None = None) -> None:
    """Refuse, before a model is loaded, a dataset folder that is missing or is a file, or
    (with ``split``) one without that split's image and label folders, naming the option."""
    from pathlib import Path

    from ..data.dataset import split_folders_problem
    from ..errors import CardiganError

    data = Path(data)
    if not data.exists():
        raise CardiganError(f"{flag} {data}: no such folder")
    if not data.is_dir():
        raise CardiganError(f"{flag} {data}: is a file; give a prepared dataset folder")
    problem = split_folders_problem(data, split) if split else None
    if problem:
        raise CardiganError(f"{flag} {problem}")


def is_json_report(path, keys: set[str]) -> bool:
    """Whether ``path`` holds a JSON object with every one of ``keys`` at its top: a report a
    command wrote, which its ``--overwrite`` may replace."""
    import json
    from pathlib import Path

    try:
        report = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError, RecursionError):
        return False
    return isinstance(report, dict) and set(keys) <= set(report)


def check_report_file(out, overwrite: bool, keys: set[str], kind: str) -> None:
    """Refuse, before any work, a report file ``out`` that exists without ``--overwrite``, that
    is not an earlier report (:func:`is_json_report` with ``keys``; a link never is) or whose
    folder cannot be written; ``kind`` names the report in the messages ("an evaluation
    report")."""
    import tempfile
    from pathlib import Path

    from ..errors import CardiganError, already_exists
    from ..fileio import describe_os_error

    out = Path(out)
    check_output_file(out)
    if out.exists() or out.is_symlink():
        if not overwrite:
            raise CardiganError(already_exists(f"--out {out}", "an earlier report"))
        if out.is_symlink() or not is_json_report(out, keys):
            raise CardiganError(f"--out {out}: not {kind} of cardiGAN Studio; refusing to replace it, "
                                "choose another file")
    try:
        with tempfile.TemporaryFile(dir=out.parent):
            pass
    except OSError as exc:
        raise CardiganError(f"--out {describe_os_error(exc, out)}") from None


def check_model_out(path, overwrite: bool) -> None:
    """Refuse, before any work, an ``--out`` model file that cannot be written, that exists
    without ``--overwrite`` or whose name does not end in the native model suffix (what
    ``--model`` and the studio's model picker take by its name)."""
    from pathlib import Path

    from ..errors import CardiganError, already_exists
    from ..models.registry import NATIVE_SUFFIXES

    check_output_file(path)
    path = Path(path)
    if path.suffix.lower() not in NATIVE_SUFFIXES:
        raise CardiganError(f"--out {path}: a model file is written as {NATIVE_SUFFIXES[0]}; name it "
                            f"{path.with_suffix(NATIVE_SUFFIXES[0]).name}")
    if Path(path).exists() and not overwrite:
        raise CardiganError(already_exists(f"--out {path}"))


def style_scale_value(text: str) -> float:
    """An argparse type: a noise model's style spread, above 0 and at most 1."""
    from ..nets.config import style_scale_problem

    problem = style_scale_problem(text)
    if problem:
        raise argparse.ArgumentTypeError(problem)
    return float(text)


def int_in_range(low: int, high: int, multiple_of: int | None = None):
    """An argparse type: a whole number between ``low`` and ``high`` (checked as the command
    line is read, so no work starts for a value that would be refused later)."""

    def parse(text: str) -> int:
        value = whole_number(text)
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be between {low} and {high}, not {short_number(value)}")
        if multiple_of and value % multiple_of:
            raise argparse.ArgumentTypeError(f"must be a multiple of {multiple_of}, not {value}")
        return value

    parse.__name__ = "whole number"  # what argparse calls the type in its messages
    return parse


def float_in_range(low: float, high: float, unit: str = ""):
    """An argparse type: a finite number between ``low`` and ``high`` (``unit`` names it in the
    message), checked as the command line is read."""
    import math

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
        if not (math.isfinite(value) and low <= value <= high):
            raise argparse.ArgumentTypeError(f"must be between {low:g} and {high:g}{unit}, not {text}")
        return value

    parse.__name__ = "number"
    return parse


def views_value(text: str) -> tuple[str, ...]:
    """An argparse type: comma-separated views (2CH, 4CH), in any case."""
    from ..data.layout import VIEWS  # the anatomy loads only once a command line is read

    return choices_value(text, VIEWS, "view")


def instants_value(text: str) -> tuple[str, ...]:
    """An argparse type: comma-separated instants (ED, ES), in any case."""
    from ..data.layout import INSTANTS

    return choices_value(text, INSTANTS, "instant")


def choices_value(text: str, allowed: tuple[str, ...], what: str) -> tuple[str, ...]:
    """``text`` as :func:`engine.data.layout.parse_choices` reads it, its refusal an argparse error."""
    from ..data.layout import parse_choices
    from ..errors import DataError

    try:
        return parse_choices(text, allowed, what)
    except DataError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


views_value.__name__ = "views"
instants_value.__name__ = "instants"


SEED_LIMIT = 2 ** 63  # seeds are reduced below this: numpy, torch and the simulator all take it


def seed_value(text: str) -> int:
    """An argparse type for seeds: a whole number 0 or more, reduced modulo 2**63 (seeds below
    it, the usual ones, are kept as they are). A negative seed is refused: numpy's generators
    refuse one and torch's take it, so it could not mean the same everywhere, and the studio's
    seed boxes start at 0."""
    value = whole_number(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, not {short_number(value)}")
    return value % SEED_LIMIT


def whole_number(text: str) -> int:
    """``int(text)``, or an argparse error in a few words (never thousands of digits)."""
    try:
        return int(text)
    except ValueError:
        if text.strip().lstrip("+-").isdigit():  # past Python's limit on digits
            raise argparse.ArgumentTypeError(f"{short_number(text)!r} has too many digits") from None
        raise argparse.ArgumentTypeError(f"{short_number(text)!r} is not a whole number") from None


seed_value.__name__ = "seed"


def short_number(value) -> str:
    """A number as text, shortened when it has more digits than a person reads."""
    text = str(value)
    return text if len(text) <= 24 else f"{text[:12]}...({len(text)} digits)"


class OneLineParser(argparse.ArgumentParser):
    """An argument parser whose mistakes are one line on stderr, like every other error."""

    def error(self, message: str):
        import sys

        command = self.prog.removeprefix("cardigan").strip()
        where = f" (see cardigan {command + ' ' if command else ''}--help)"
        print(f"cardigan: error: {message}{where}", file=sys.stderr)
        self.exit(2)


DURATION_UNITS = (("h", 3600), ("m", 60), ("s", 1))


def duration_value(text: str) -> float:
    """An argparse type: a length of time, in seconds. Written with units (``45s``, ``90m``,
    ``2h``, ``1h30m``, ``1.5h``) or as a bare number of minutes (``90``), which is how cluster
    schedulers read one; it must be more than zero."""
    import math
    import re

    spoken = text.strip().lower().replace(" ", "")
    number = r"(\d+(?:\.\d*)?|\.\d+)"
    if re.fullmatch(number, spoken):
        seconds = float(spoken) * 60
    else:
        parts = re.fullmatch("".join(f"(?:{number}{unit})?" for unit, _ in DURATION_UNITS), spoken)
        if not spoken or parts is None:
            raise argparse.ArgumentTypeError(
                f"{short_number(text)!r} is not a length of time (write e.g. 45s, 90m, 2h or 1h30m)")
        seconds = sum(float(amount) * size for amount, (_, size) in zip(parts.groups(), DURATION_UNITS)
                      if amount is not None)
    if not math.isfinite(seconds):
        raise argparse.ArgumentTypeError(f"{short_number(text)!r} is too long a time")
    if seconds <= 0:
        raise argparse.ArgumentTypeError(f"{short_number(text)!r}: the time must be more than zero")
    return seconds


duration_value.__name__ = "length of time"


def spoken_duration(seconds: float) -> str:
    """``seconds`` as a person writes it: ``1h30m``, ``1m30s``, ``2h`` (to the second; a time
    above zero stays above it, as :func:`duration_value` requires)."""
    whole = max(1, round(seconds)) if seconds > 0 else 0
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    text = "".join(f"{value}{unit}" for value, unit in ((hours, "h"), (minutes, "m"), (secs, "s")) if value)
    return text or "0s"
