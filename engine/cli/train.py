"""``cardigan train``: SPADE training from the command line (also under torchrun)."""

from __future__ import annotations

import argparse
import dataclasses
import json
import signal
import sys
import time
from pathlib import Path

from .options import add_device_argument, duration_value, non_empty_value, seed_value, spoken_duration

HELP = "train SPADE on a prepared dataset (one GPU, CPU, or several GPUs with torchrun)"
DESCRIPTION = (
    "Train SPADE on a prepared dataset folder (cardigan prepare / cardigan phantom). "
    "Every preset field can be overridden with the flag of the same name. Several GPUs: "
    "torchrun --nproc_per_node=N -m engine train ... (the same flags; --batch-size is per "
    "process, so one iteration takes N x B images and an epoch N times fewer iterations; --lr "
    "is not scaled with N; the losses logged are the mean over the processes; on the CPU, gloo with batch norm "
    "per process). Ctrl-C stops gracefully, saving a state that --resume continues from; with "
    "--resume every default below is the run's own setting (its config.json), not the preset's.")

TIME_LIMIT_EXIT = 75  # sysexits' EX_TEMPFAIL: not finished, run it again (with --resume) to go on
FLAG_NAMES = {"image_size": "--size"}  # one name per concept across commands
SKIPPED_FIELDS = {"preset", "iters", "epochs", "device", "amp", "checkpoint_every",
                  "batch_size", "vgg_weights", "ttur"}
# warm starts: an empty one is refused, not taken as the option left out (a run started fresh)
WARM_STARTS = {
    "init_from": non_empty_value("model file name", "give a .safetensors model or an NVlabs *_net_G.pth, "
                                 "or leave --init-from out to start the generator fresh"),
    "init_disc_from": non_empty_value("run folder name", "give a training run folder or one of its state "
                                      "files, or leave --init-disc-from out to start the critic fresh")}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from ..training.config import FIELDS, PRESET_SUMMARIES, PRESETS, TrainConfig, preset_default

    parser.add_argument("--data", type=Path, default=None,
                        help="prepared dataset folder (with --resume: the run's own by default)")
    parser.add_argument("--run", "--run-dir", dest="run", type=Path, required=True,
                        help="run folder (created if needed); under torchrun write --run-dir, "
                             "as torchrun claims --run for itself")
    parser.add_argument("--preset", default=None, choices=list(PRESETS),
                        help="; ".join(f"{name}: {text}" for name, text in PRESET_SUMMARIES.items())
                        + "; default seed")
    length = parser.add_mutually_exclusive_group()
    length.add_argument("--iters", type=int, default=None,
                        help="train for N iterations in all, a resumed run's earlier ones counted (default: "
                             f"niter + niter_decay epochs, by preset: {preset_epochs()})")
    length.add_argument("--epochs", type=int, default=None,
                        help="train for E epochs in all, a resumed run's earlier ones counted")
    parser.add_argument("--batch-size", type=int, default=None,
                        help=f"images per step and process ({preset_default('batch_size')})")
    add_device_argument(parser, default=None, said=FIELDS["device"].default)  # None: on --resume the run's own
    parser.add_argument("--amp", default=None, choices=["auto", "bf16", "fp16", "off"],
                        help=f"{FIELDS['amp'].metadata['help']} ({preset_default('amp')})")
    parser.add_argument("--resume", action="store_true", help="continue from the newest state in --run")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace an earlier run in --run (a folder holding other files is refused)")
    parser.add_argument("--checkpoint-every", type=int, default=None, metavar="N",
                        help=f"save the training state every N iterations ({preset_default('checkpoint_every')})")
    parser.add_argument("--vgg-weights", default=None, metavar="PATH",
                        help="local torchvision VGG19 state dict for the perceptual loss")
    parser.add_argument("--no-ttur", dest="ttur", action="store_false", default=None,
                        help="plain Adam(beta1, beta2) at lr for both nets instead of TTUR")
    parser.add_argument("--threads", type=int, default=None, metavar="N",
                        help="CPU threads for this process (default: PyTorch's choice); use 1 "
                             "when other heavy processes share the cores")
    parser.add_argument("--time-limit", type=duration_value, default=None, metavar="TIME",
                        help="stop gracefully, saving the state, before this command has run this "
                             "long (45s, 90m, 11h30m; a bare number is minutes): a cluster job's "
                             f"limit less a few minutes; ends with code {TIME_LIMIT_EXIT} so that a "
                             "script can tell an unfinished run, which --resume continues")
    parser.add_argument("--dry-run", action="store_true", help="check that the run folder takes this run (and a resume "
                        "its networks), print the resolved config and exit")
    parser.add_argument("--events-jsonl", action="store_true",
                        help="machine-readable mode: one JSON event per line on stdout; a line "
                             "'stop' on stdin stops gracefully (used by the desktop app)")
    tuning = parser.add_argument_group("preset fields (default: the preset's value; with --resume, the run's own)")
    for f in dataclasses.fields(TrainConfig):
        if f.name in SKIPPED_FIELDS:
            continue
        flags = ["--" + f.name.replace("_", "-")]
        if f.name in FLAG_NAMES:  # the name the other commands use first, the field's name kept
            flags.insert(0, FLAG_NAMES[f.name])
        meta = {**f.metadata, "help": field_help(f)}
        if isinstance(f.default, bool):
            tuning.add_argument(*flags, dest=f.name, default=None, action=argparse.BooleanOptionalAction,
                                help=meta.get("help"))
        elif meta.get("choices"):
            tuning.add_argument(*flags, dest=f.name, default=None, choices=meta["choices"], help=meta.get("help"),
                                metavar=f.name.split("_")[0].upper() if long_choices(f) else None)
        elif f.name == "seed":  # 0 or more, reduced below 2**63 as every command does
            tuning.add_argument(*flags, dest=f.name, default=None, type=seed_value, metavar="INT",
                                help=meta.get("help"))
        else:
            kind = type(f.default) if f.default is not None else str
            tuning.add_argument(*flags, dest=f.name, default=None, type=WARM_STARTS.get(f.name, kind),
                                metavar=kind.__name__.upper(), help=meta.get("help"))


def preset_epochs() -> str:
    """Each preset's run length in epochs when neither --iters nor --epochs is given:
    "seed 30, lite 30, quality 100"."""
    from ..training.config import FIELDS, PRESETS

    def epochs(values: dict) -> int:
        return (values.get("niter", FIELDS["niter"].default)
                + values.get("niter_decay", FIELDS["niter_decay"].default))

    return ", ".join(f"{name} {epochs(values)}" for name, values in PRESETS.items())


LONG_CHOICES = 40  # characters: argparse's {a,b,...} longer than this runs past 80 columns


def long_choices(f: dataclasses.Field) -> tuple | None:
    """A field's choices when there are too many to show as ``{a,b,...}``: the option then
    shows a name, and its help lists them."""
    choices = f.metadata.get("choices")
    return tuple(choices) if choices and len(",".join(choices)) > LONG_CHOICES else None


def field_help(f: dataclasses.Field) -> str:
    """A preset field's help (with its choices when they are too many for the option's own
    ``{a,b,...}``) and its default in each preset; a field no preset sets a value for (a warm
    start's file) has none to say."""
    from ..training.config import preset_default

    text = f.metadata["help"]
    if long_choices(f):
        text += ": " + ", ".join(long_choices(f))
    if f.default is None:
        return text
    return f"{text} ({preset_default(f.name)})"


NOT_FLAGS = {"preset"}  # the preset is its own flag


def config_flags(name: str, value) -> list[str]:
    """The command-line flags that set TrainConfig field ``name`` to ``value`` (``[]`` for
    None): the inverse of this parser, for programs that launch ``cardigan train``."""
    if value is None or name in NOT_FLAGS:
        return []
    flag = "--" + name.replace("_", "-")
    if name == "ttur":  # only --no-ttur exists: TTUR is the default
        return [] if value else ["--no-ttur"]
    if isinstance(value, bool):
        return [flag if value else "--no-" + name.replace("_", "-")]
    return [flag, repr(value) if isinstance(value, float) else str(value)]


def overrides_from(args: argparse.Namespace) -> dict:
    from ..training.config import TrainConfig

    names = {f.name for f in dataclasses.fields(TrainConfig)} - NOT_FLAGS
    return {name: getattr(args, name) for name in names
            if getattr(args, name, None) is not None}


def resolve(args: argparse.Namespace):
    """The config for this invocation: on --resume the run's stored config plus given flags."""
    from ..errors import CardiganError
    from ..training.config import TrainConfig, resolve_config, validate
    from ..training.run_folder import RunFolder

    overrides = overrides_from(args)
    stored = RunFolder(args.run).read_config() if args.resume else None
    if stored is None:
        return resolve_config(args.preset or "seed", **overrides)
    if args.preset and args.preset != stored.get("preset"):
        raise CardiganError(f"{args.run} was trained with preset {stored.get('preset')}, "
                            f"not {args.preset}")
    if "iters" in overrides:
        stored["epochs"] = None
    if "epochs" in overrides:
        stored["iters"] = None
    config = TrainConfig.from_dict({**stored, **overrides})
    validate(config)
    return config


def resolve_data(args: argparse.Namespace) -> Path:
    """--data, or on --resume the data folder recorded in the run's config.json; a resume of
    a folder that holds no run says so, whether --data was given or not."""
    from ..errors import CardiganError
    from ..training.run_folder import RunFolder

    if args.data is not None:
        return args.data
    run = RunFolder(args.run)
    stored = run.read_config() if args.resume else None
    if stored and stored.get("data"):
        return Path(stored["data"])
    if args.resume and (problem := run.start_problem(resume=True)):  # a mistyped --run, not a missing --data
        raise CardiganError(problem)
    raise CardiganError("--data is required (the prepared dataset folder to train on)")


def fit_size_to_data(args: argparse.Namespace, config, data: Path):
    """(``config``, None), or for a new run given no --size on data smaller than its preset's
    size, (``config`` at the data's size, a line saying so): see :mod:`engine.training.data_size`.
    A resumed run keeps its own size; on data smaller than it, the line says so."""
    from ..training.data_size import data_side, fitted_to_data, resumed_on_smaller_data

    if "image_size" in overrides_from(args):
        return config, None
    side = data_side(data)
    if args.resume:
        note = resumed_on_smaller_data(config, side)
        return config, (f"resuming {note}" if note else None)
    fitted = fitted_to_data(config, side)
    if fitted.image_size == config.image_size:
        return config, None
    what = "the data's size" if fitted.image_size == side else f"the size the network takes nearest the data's {side} px"
    return fitted, (f"training at {fitted.image_size} px, {what} (the {config.preset} preset's is "
                    f"{config.image_size}; --size changes it)")


def refuse_as_the_run_would(args: argparse.Namespace, config, data: Path) -> None:
    """--dry-run: the refusals the training would make at its start, in its words (a device
    this machine lacks, a data folder that is missing or not a prepared dataset, a folder
    that does not take this run, a resume with other networks), so that a dry run that
    prints a configuration promises a run that starts. Nothing is written."""
    from ..devices import resolve_device
    from ..errors import CardiganError
    from ..training.loop import data_folder_problem
    from ..training.run_folder import RunFolder

    resolve_device(config.device)
    problem = data_folder_problem(data)
    if problem:
        raise CardiganError(problem)
    run = RunFolder(args.run)
    problem = run.start_problem(args.resume, args.overwrite, data)
    if problem:
        raise CardiganError(problem)
    if args.resume:
        run.check_resumable_with(config)


class StopFlag:
    """First Ctrl-C (or SIGTERM) asks for a graceful stop; a second Ctrl-C aborts.

    A stop asked for by a signal ends the command with the shell's code for that signal
    (:meth:`exit_code`: 130 for Ctrl-C), so that a script running several trainings in a row
    (``set -e``, ``&&``) stops with it rather than starting the next one; a stop asked for on
    stdin (the app's Stop button) ends with 0.

    A second SIGINT within :data:`SAME_PRESS` seconds of the first is the same request: a
    signal sent to the process and to its group (``timeout`` does this) arrives twice at
    once, and a person's second press comes later."""

    SAME_PRESS = 1.0

    def __init__(self, clock=time.monotonic) -> None:
        self.requested = False
        self.clock = clock
        self.first = None
        self.signum = None  # the signal that asked for the stop; None when none did

    def install(self) -> None:
        signal.signal(signal.SIGINT, self.handle)
        try:
            signal.signal(signal.SIGTERM, self.handle)
        except (ValueError, OSError):
            pass

    def handle(self, signum=None, frame=None) -> None:
        if self.requested:
            if signum == signal.SIGINT and self.clock() - self.first > self.SAME_PRESS:
                raise KeyboardInterrupt
            return
        self.requested, self.first, self.signum = True, self.clock(), signum
        # a second Ctrl-C aborts a stop asked for by one; the app's Stop (on stdin) has no Ctrl-C
        hint = " (Ctrl-C again to abort)" if signum == signal.SIGINT else ""
        print(f"\nstopping after this iteration and saving the state{hint}", file=sys.stderr, flush=True)

    def __call__(self) -> bool:
        return self.requested

    def exit_code(self) -> int:
        """0, or 128 plus the number of the signal that asked for the stop."""
        return 128 + int(self.signum) if self.signum is not None else 0


class TimeLimit:
    """``--time-limit``: asked after every iteration, it says stop once one more iteration, as
    long as a typical one takes (the median of the last five, so a checkpoint's long iteration
    does not stop a run early; the first, after loading, is not counted), would end past
    ``seconds`` from the command's start (data loading included). The final state and previews
    are written after that, so leave them a minute."""

    def __init__(self, seconds: float | None, clock=time.monotonic) -> None:
        self.seconds, self.clock = seconds, clock
        self.start = clock()
        self.last: float | None = None  # the previous iteration's end; None before the first
        self.steps: list[float] = []
        self.reached = False

    def __call__(self) -> bool:
        now = self.clock()
        if self.last is not None:
            self.steps = (self.steps + [now - self.last])[-5:]
        self.last = now
        step = sorted(self.steps)[(len(self.steps) - 1) // 2] if self.steps else 0.0
        if self.seconds is not None and now - self.start + step >= self.seconds:
            self.reached = True
        return self.reached


def run(args: argparse.Namespace) -> int:
    """Train as ``args`` say. With ``--events-jsonl`` every problem the user can fix that
    ends the command, whether found before the training starts or by it, is also a
    :class:`~engine.training.events.Failed` event, so the app says it in its own words (under
    torchrun, sent by rank 0 alone: the other processes end with the same exit code, no event)."""
    if not args.events_jsonl or args.dry_run:
        return train_as_told(args, None)
    from ..errors import CardiganError
    from ..training.distributed import launched_rank
    from .train_view import JsonEventStream

    stream = JsonEventStream(sys.stdout)
    try:
        return train_as_told(args, stream)
    except CardiganError as exc:
        if launched_rank() == 0:  # under torchrun every process fails alike; the first one says so
            stream.fail(exc.message)
        raise


def resume_command(run: Path) -> str:
    """The command that continues the run in ``run`` (its data folder and settings are the
    run's own), quoted for a shell where its path needs it."""
    import shlex

    return f"cardigan train --run {shlex.quote(str(run))} --resume"


def train_as_told(args: argparse.Namespace, stream) -> int:
    """The command, its events on ``stream`` (a JsonEventStream) or, without one, on the terminal."""
    limit = TimeLimit(args.time_limit)  # counted from the command's start
    from ..training.events import TrainCallbacks
    from ..training.loop import train
    from .train_view import TerminalTrainView

    if args.resume and args.overwrite:
        from ..errors import CardiganError

        raise CardiganError("give --resume (continue the run) or --overwrite (replace it), not both")
    config = resolve(args)
    data = resolve_data(args)
    config, size_note = fit_size_to_data(args, config, data)
    if args.threads is not None:
        import torch

        if args.threads < 1:
            from ..errors import CardiganError

            raise CardiganError("--threads must be at least 1")
        torch.set_num_threads(args.threads)
    if args.dry_run:
        refuse_as_the_run_would(args, config, data)
        print(json.dumps({"data": str(data), "run": str(args.run), "resume": args.resume,
                          **config.to_dict()}, indent=2))
        return 0
    stop = StopFlag()
    stop.install()
    if stream is not None:
        view = stream
        view.watch_stdin(stop)
    else:
        view = TerminalTrainView(note=size_note)  # the app says it on the wizard's preset page
    try:
        callbacks = TrainCallbacks(view, lambda: stop() or limit())
        result = train(config, data, args.run, callbacks, resume=args.resume, overwrite=args.overwrite)
    finally:
        view.close()
    if not result.stopped_early:
        return 0
    timed_out = limit.reached and not stop.requested
    if stream is None:  # how to go on, for a terminal; an event stream's Finished says it (the app offers Resume)
        within = f", within the time limit of {spoken_duration(args.time_limit)}" if timed_out else ""
        print(f"stopped at iteration {result.iteration}{within}; continue with --resume: "
              f"{resume_command(args.run)}", file=sys.stderr)
    return TIME_LIMIT_EXIT if timed_out else stop.exit_code()
