"""``cardigan`` command-line entry: one subcommand module per command."""

from __future__ import annotations

import argparse
import importlib
import sys

from .. import __version__
from ..errors import CardiganError
from .foreign_options import foreign_option_problem

# (command, module) in the order ``--help`` lists them; each module defines HELP,
# add_arguments(parser) and run(args) -> int, and imports heavy libraries only inside run.
COMMANDS = (
    ("synthesize", "engine.cli.synthesize"),
    ("info", "engine.cli.info"),
    ("tune", "engine.cli.tune"),
    ("train", "engine.cli.train"),
    ("refine", "engine.cli.refine"),
    ("prepare", "engine.cli.prepare"),
    ("phantom", "engine.cli.phantom"),
    ("export", "engine.cli.export"),
    ("cine", "engine.cli.cine"),
    ("evaluate", "engine.cli.evaluate"),
    ("bench", "engine.cli.bench"),
)

ERROR_PREFIX = "cardigan: error: "  # how a refusal starts on stderr (the app tells it from other output)
DESCRIPTION = ("cardiGAN Studio: paint cardiac label maps and synthesize echocardiograms with "
               "SPADE. Run `cardigan` with no command to open the desktop app, or `cardigan "
               "PATH ...` to open files in it (a mask, a Slicer .seg.nrrd, an ITK-SNAP workspace, "
               "an echo to trace over, a model, a prepared dataset folder); the commands below "
               "work without a display.")


def build_parser(argv: list[str] | None = None) -> argparse.ArgumentParser:
    """The whole command line; given ``argv``, only the command it names gets its options
    (some commands' option tables import torch, which ``--help``, ``--version`` and the other
    commands need not wait for)."""
    from .options import OneLineParser

    chosen = _command_in(argv)
    parser = OneLineParser(prog="cardigan", description=DESCRIPTION)
    parser.add_argument("--version", action="version", version=f"cardiGAN Studio {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", title="commands")
    parser.commands = {}
    for name, module_name in COMMANDS:
        module = importlib.import_module(module_name)
        command = sub.add_parser(name, help=module.HELP, description=getattr(module, "DESCRIPTION", module.HELP))
        if argv is None or name == chosen:
            module.add_arguments(command)
        command.set_defaults(handler=module.run)
        parser.commands[name] = command
    return parser


def _command_in(argv: list[str] | None) -> str | None:
    """The command ``argv`` names: its first word that is not an option."""
    for word in argv or ():
        if not word.startswith("-"):
            return word
    return None


def headless_commands() -> list[str]:
    return [name for name, _ in COMMANDS]


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    try:
        parser = build_parser(argv)
        args = parse_arguments(parser, argv)
    except KeyboardInterrupt:  # Ctrl-C while the commands are still being loaded
        return interrupted()
    except ModuleNotFoundError as exc:  # an option table's import of a missing dependency
        return missing_package(exc)
    if isinstance(args, int):
        return args
    if args.command is None:
        parser.print_help()
        return 0
    return run_handler(args.handler, args)


def parse_arguments(parser: argparse.ArgumentParser, argv: list[str] | None) -> argparse.Namespace | int:
    """The parsed command line, or the exit code of a mistake (already reported in one line);
    --help and --version still exit as argparse makes them. An option the command does not
    take is reported by the command's own parser (so the message points to its --help), and
    one of NVlabs SPADE's options with the option to give instead."""
    try:
        command = parser.commands.get(_command_in(argv))
        if command is not None and "-h" not in argv and "--help" not in argv:
            problem = foreign_option_problem(_command_in(argv), command, argv)
            if problem:
                command.error(problem)
        args, extras = parser.parse_known_args(argv)
        if extras:
            (command or parser).error(f"unrecognized arguments: {' '.join(extras)}")
        return args
    except SystemExit as exc:
        if exc.code in (0, None):
            raise
        return int(exc.code) if isinstance(exc.code, int) else 2


def quiet_closed_output() -> None:
    """Point standard output at the null device, so that Python's flush at exit does not
    complain about the closed pipe again."""
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


def interrupted(detail: str = "") -> int:
    """Ctrl-C's one line (with ``detail``: what the stop left, e.g. that nothing was written)
    and the shell's exit status for it."""
    print(f"cardigan: interrupted{'; ' + detail if detail else ''}", file=sys.stderr)
    return 130


def missing_package(exc: ModuleNotFoundError) -> int:
    """Report a dependency that is not installed in one line; our own missing module is a
    bug and keeps its traceback."""
    from ..dependencies import missing_dependency

    line = missing_dependency(exc)
    if line is None:
        raise exc
    print(f"{ERROR_PREFIX}{line}", file=sys.stderr)
    return 1


def run_handler(handler, args: argparse.Namespace) -> int:
    """Run a command; user mistakes become one line on stderr and a non-zero exit."""
    try:
        return int(handler(args) or 0)
    except CardiganError as exc:
        print(f"{ERROR_PREFIX}{exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return interrupted()
    except MemoryError:
        print(f"{ERROR_PREFIX}out of memory (try a smaller batch or size)", file=sys.stderr)
        return 1
    except BrokenPipeError:  # the reader of our output went away (``| head``, a closed parent)
        quiet_closed_output()
        return 141  # as a shell tool killed by SIGPIPE: no message, the pipe has no one to read it
    except ModuleNotFoundError as exc:
        return missing_package(exc)
    except (OSError, RuntimeError) as exc:
        # the last guard for the machine's own faults (a full disk, a vanished folder) that a
        # writer did not name itself; anything else is a bug and keeps its traceback
        from ..fileio import describe_os_error, is_disk_full
        if isinstance(exc, RuntimeError) and not is_disk_full(exc):
            raise
        where = getattr(exc, "filename", None) or "a file"
        print(f"{ERROR_PREFIX}{describe_os_error(exc, where)}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
