"""``cardigan refine``: train a texture refiner for a model on a prepared dataset and write the
model with it."""

from __future__ import annotations

import argparse
from pathlib import Path

from .options import add_model_argument, check_dataset_folder, check_model_out, float_in_range, int_in_range

HELP = "train a texture refiner for a model against real images (resumable)"
DESCRIPTION = (
    "Train a small network that reworks a generator model's texture after it (the near field "
    "under the probe, the band along the fan's edge, the fine grey levels), adversarially against "
    "the real images of a prepared dataset's train split, holding its output's 4x4-block means to "
    "the generator's; then write the model with it to --out. The model's images of the train masks "
    "are drawn once into --run-dir; the training state is saved there every 100 iterations and at "
    "Ctrl-C, and the same command resumes it. The model must take the fan (the bundled one does).")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from ..nets.refiner_limits import MAX_NEAR_FIELD, MIN_NEAR_FIELD
    from ..training.refiner_settings import RefinerSettings

    default = RefinerSettings()
    add_model_argument(parser)
    parser.add_argument("--data", required=True, help="prepared dataset folder (its train split is used)")
    parser.add_argument("--out", required=True, help="the model file to write (.safetensors)")
    parser.add_argument("--run-dir", required=True, help="folder for the drawn images and the training state: new, "
                        "empty or an earlier refine's (to resume)")
    parser.add_argument("--iters", type=int_in_range(1, 10**7), default=default.iters,
                        help=f"training iterations (default {default.iters})")
    parser.add_argument("--batch-size", type=int_in_range(1, 256), default=default.batch_size,
                        help=f"pairs per step (default {default.batch_size})")
    parser.add_argument("--width", type=int_in_range(4, 64), default=default.width,
                        help=f"the refiner's channels (default {default.width})")
    parser.add_argument("--lambda-reg", type=float_in_range(0.0, 1e4), default=default.lambda_reg,
                        help="weight holding the 4x4-block means to the generator's "
                             f"(default {default.lambda_reg:g})")
    parser.add_argument("--lambda-detail", type=float_in_range(0.0, 1e4), default=default.lambda_detail,
                        help="weight holding the fine detail's energy per 4x4 block to the generator's "
                             f"(default {default.lambda_detail:g})")
    parser.add_argument("--near-field", type=float_in_range(MIN_NEAR_FIELD, MAX_NEAR_FIELD), default=None,
                        metavar="SHARE",
                        help="confine the refiner to the top SHARE of the fan's depth, the probe's near field "
                             "(e.g. 0.3); default: the whole fan")
    parser.add_argument("--lr", type=float_in_range(1e-7, 1.0), default=default.lr,
                        help=f"learning rate (default {default.lr:g})")
    parser.add_argument("--every", type=int_in_range(1, 10**6), default=default.every,
                        help="use every N-th train pair (default every one)")
    parser.add_argument("--seed", type=int_in_range(0, 2**31 - 1), default=default.seed,
                        help=f"seed (default {default.seed})")
    parser.add_argument("--overwrite", action="store_true", help="replace --out if it exists")


def run(args: argparse.Namespace) -> int:
    from ..models import open_model, save_model_file
    from ..progress import Cancelled
    from ..training.refiner_training import RefinerRun, RefinerSettings
    from .terminal import TerminalProgress
    from .train import StopFlag

    out = Path(args.out)
    check_model_out(out, args.overwrite)
    check_dataset_folder(args.data, split="train")
    settings = RefinerSettings(iters=args.iters, batch_size=args.batch_size, width=args.width,
                               lambda_reg=args.lambda_reg,
                               lambda_detail=args.lambda_detail, lr=args.lr, every=args.every, seed=args.seed,
                               near_field=args.near_field)
    model = open_model(args.model)
    run = RefinerRun(model, Path(args.data), Path(args.run_dir), settings)
    # Ctrl-C (or SIGTERM) asks for a stop after the step under way, so the refiner and its
    # critic are saved at one iteration; a second Ctrl-C aborts at once
    stop = StopFlag()
    stop.install()
    try:
        with TerminalProgress() as bars:
            refined = run.run(progress=bars, should_stop=stop)
    except (KeyboardInterrupt, Cancelled):
        print(f"stopped; the state is in {args.run_dir} (run the same command to resume)")
        return stop.exit_code() or 130
    if run.iteration > settings.iters:
        print(f"note: {args.run_dir} had already trained {run.iteration} iterations, more than --iters "
              f"{settings.iters}; its refiner is written as it is")
    save_model_file(refined, out, provenance={"refiner": {"data": Path(args.data).resolve().name,
                                                          "iterations": run.iteration,
                                                          "batch_size": settings.batch_size,
                                                          "lambda_reg": settings.lambda_reg,
                                                          "lambda_detail": settings.lambda_detail,
                                                          "near_field": settings.near_field}})
    print(f"wrote {out}: {model.name} with a texture refiner "
          f"({sum(p.numel() for p in refined.refiner.parameters()):,} parameters, {run.iteration} iterations)")
    return 0
