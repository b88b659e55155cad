"""``train(config, run_dir, callbacks)``: the training loop the CLI, the app and tests drive."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import torch

from ..errors import CardiganError, DataError, Message, option
from ..fileio import is_disk_full, sha256_file
from ..labels import label_table
from ..models import GeneratorModel, save_model_file
from ..nets.noise import seeded_noise
from . import distributed
from .batches import epoch_batches, epoch_loader, epoch_number, iters_per_epoch
from .config import LITE_PRESET, TrainConfig
from .events import (CheckpointSaved, Failed, Finished, Notice, ProgressUpdate, SamplePreview,
                     Scalars, Started, TrainCallbacks)
from .divergence import TrainingDiverged, stop_if_losses_diverged, stop_if_weights_diverged
from .run_folder import RESUME_LATER, RunFolder, check_run_outside_data
from .state import list_states, load_newest_state, resume_from_state, rng_state, save_state, state_iteration
from .stats import KEYS, LOSS, PROGRESS
from .trainer import Trainer

PREVIEW_COUNT = 4
PREVIEW_SECONDS = 120.0  # a sample preview at least this often, whatever sample_every says
OOM_ERRORS = (getattr(torch, "OutOfMemoryError", torch.cuda.OutOfMemoryError), RuntimeError)


@dataclass
class PreviewSchedule:
    """When the run writes a sample preview: at its start, then every ``every`` iterations or
    ``seconds`` of training, whichever comes first, and where it ends or is stopped. (A slow
    CPU run would otherwise show its first picture only after ``sample_every`` iterations.)"""

    every: int
    seconds: float
    last: int | None = None  # the iteration of the newest preview
    at: float = 0.0  # and when it was written (time.perf_counter)

    def due(self, iteration: int, now: float) -> bool:
        return iteration != self.last and (self.last is None or iteration % self.every == 0
                                           or now - self.at >= self.seconds)

    def written(self, iteration: int, now: float) -> None:
        self.last, self.at = iteration, now


@dataclass
class RemainingTime:
    """The time a run has left: the iterations still to go at the pace this launch has kept
    since its first reported iteration, checkpoints and previews included (the first
    iteration, which also warms the networks up, is not counted). The pace of the last log
    window alone made the estimate jump with every checkpoint or preview the window held."""

    total: int
    first: tuple[int, float] | None = None  # (iteration, time.perf_counter) of the first report

    def __call__(self, iteration: int, now: float) -> float:
        """Seconds left after ``iteration`` at ``now``; NaN until a pace is known."""
        if self.first is None:
            self.first = (iteration, now)
        done, spent = iteration - self.first[0], now - self.first[1]
        if done <= 0 or spent <= 0:
            return float("nan")
        return (self.total - iteration) * spent / done


@dataclass(frozen=True)
class TrainResult:
    iteration: int
    model_path: Path
    stopped_early: bool


def lr_factor(iteration: int, total: int, niter: int, niter_decay: int) -> float:
    """Linear decay to 0 over the last niter_decay / (niter + niter_decay) of the run."""
    start = niter / (niter + niter_decay)
    progress = iteration / total
    if niter_decay == 0 or progress <= start:
        return 1.0
    return max(0.0, (1.0 - progress) / (1.0 - start))


def trains_generator(config: TrainConfig, iteration: int) -> bool:
    """Whether ``iteration`` (from 0) has a generator step: one in every ``d_steps_per_g``,
    none in the first ``renew_warmup`` iterations after each renewal of the pooled critic
    (``renew_critic``; the first renewal is at iteration 0), while the new critic learns."""
    if config.renew_critic and iteration % config.renew_critic < config.renew_warmup:
        return False
    return iteration % config.d_steps_per_g == 0


def open_datasets(config: TrainConfig, data_dir: Path):
    from ..data.dataset import PairedDataset

    train_set = PairedDataset(data_dir, "train", augment=config.augment, seed=config.seed,
                              size=config.image_size, deform=config.deform,
                              geometry=config.augment_geometry)
    try:
        preview_set = PairedDataset(data_dir, "valid", augment=False, size=config.image_size)
        if len(preview_set) == 0:
            raise DataError("empty")
    except DataError:
        preview_set = PairedDataset(data_dir, "train", augment=False, size=config.image_size)
    return train_set, preview_set


def train(config: TrainConfig, data_dir: Path | str, run_dir: Path | str,
          callbacks: TrainCallbacks | None = None, resume: bool = False,
          overwrite: bool = False) -> TrainResult:
    """Train SPADE on a prepared dataset folder, writing the run folder.

    Reports typed events through ``callbacks.on_event`` and stops gracefully (saving its
    state) when ``callbacks.should_stop()`` returns True. With ``resume`` it continues from
    the newest training state in ``run_dir``; a new run needs a new or empty folder, or
    ``overwrite`` to replace an earlier run there (:meth:`RunFolder.start_problem`). User
    problems raise :class:`CardiganError` after a :class:`Failed` event.
    """
    callbacks = callbacks or TrainCallbacks()
    try:
        context, device = distributed.setup(config.device)
    except CardiganError as exc:  # a device this machine lacks: every process refuses, rank 0 says so
        if distributed.launched_rank() == 0:
            callbacks.on_event(Failed.of(exc.message))
        raise
    emit = callbacks.on_event if context.is_main else (lambda event: None)
    run = RunFolder(Path(run_dir))
    made_here = not run.root.exists()
    try:
        problem = data_folder_problem(Path(data_dir))
        if problem:
            raise DataError(problem)
        if resume:  # before the lock, which makes the folder: a missing one is said as missing
            distributed.decided_by_main(context, lambda: _refuse(run.resume_problem()))
        check_run_outside_data(run.root, Path(data_dir))
        with distributed.held_by_main(context, run.lock):
            accepted = False  # the folder may take this run: what fails after is this run's own
            try:
                replace = distributed.decided_by_main(context, lambda: _accept_start(run, config, resume, overwrite))
                accepted = True
                return _train(config, Path(data_dir), run, callbacks, emit, resume, context, device, replace)
            except (CardiganError, *OOM_ERRORS):
                if context.is_main:  # with the lock held: no other run is starting here
                    if accepted and not resume:
                        _forget_unsaved_start(run, made_here)
                    elif not accepted and made_here:
                        run.remove_if_unused()  # a run refused before it began leaves no folder behind
                raise
    except CardiganError as exc:
        if is_disk_full(exc) and not exc.message.gives(RESUME_LATER):
            # whether the work so far is kept: a full disk is met mid-run, not as it starts
            message = Message(exc.message, "; ", RESUME_LATER if run.has_training_state()
                              else "nothing was saved, so the run starts again")
            emit(Failed.of(message))
            raise CardiganError(message) from None
        emit(Failed.of(exc.message))
        raise
    except OOM_ERRORS as exc:
        if isinstance(exc, RuntimeError) and "out of memory" not in str(exc).lower():
            raise
        message = Message(f"out of memory on {device} at batch size {config.batch_size}: try a smaller ",
                          option("batch_size"), " or ", LITE_PRESET, "; ",
                          RESUME_LATER if run.has_training_state() else "nothing was saved, so the run starts again")
        emit(Failed.of(message))
        raise CardiganError(message) from None
    finally:
        distributed.teardown(context)


def data_folder_problem(data_dir: Path) -> str | None:
    """Why ``data_dir`` cannot be trained on, found without reading a pair (a missing
    folder, a file, a folder without a train split), in one line, or None."""
    from ..data.dataset import split_folders_problem

    if data_dir.is_file():
        return f"{data_dir}: is a file, not a data folder (give the folder `cardigan prepare` or `cardigan phantom` wrote)"
    if not data_dir.is_dir():
        return f"{data_dir}: no such data folder (prepare one with `cardigan prepare` or `cardigan phantom`)"
    return split_folders_problem(data_dir, "train")


def _refuse(problem: str | None) -> None:
    if problem:
        raise CardiganError(problem)


def _accept_start(run: RunFolder, config: TrainConfig, resume: bool, overwrite: bool) -> bool:
    """Rank 0's check that the folder takes this run (:meth:`RunFolder.prepare_start`), and
    that a resumed run keeps its networks; True when an earlier run is to be replaced."""
    replace = run.prepare_start(resume, overwrite)
    if resume:
        run.check_resumable_with(config)
    return replace


def _forget_unsaved_start(run: RunFolder, made_here: bool) -> None:
    """A new run that failed before it saved a training state: remove what it wrote (its
    config, previews, stats), so the folder takes a new run again rather than holding one that
    can be neither resumed nor started anew; a folder it made is removed whole."""
    if run.has_training_state() or run.foreign_entries():
        return
    if run.entries():
        run.remove_run()
    if made_here:
        run.remove_if_unused()


def losses_problem(losses: dict, iteration: int, run: RunFolder) -> TrainingDiverged | None:
    """The error of a step whose losses are not all finite (:func:`stop_if_losses_diverged`)."""
    try:
        stop_if_losses_diverged(losses, iteration, run)
    except TrainingDiverged as exc:
        return exc
    return None


def _processes_note(state: dict, context, config: TrainConfig, ipe: int) -> str:
    """A resume on another number of processes than the state was saved by: what changes (one
    iteration is a step of every process, so its images, an epoch's iterations and a run's
    length in epochs), or "" when the number is the same (or the state does not say)."""
    saved = state.get("world_size")
    if not isinstance(saved, int) or isinstance(saved, bool) or saved == context.world_size:
        return ""
    return (f"resuming on {context.world_size} process(es), the state was saved by {saved}: an iteration "
            f"now takes {config.batch_size * context.world_size} images (batch size {config.batch_size} per "
            f"process) and an epoch is {ipe} iterations, so the run's length and learning-rate schedule "
            "in epochs change")


def _fresh_note(fresh: list[str]) -> str:
    """"; N tensors start fresh (a, b, c, ...)", or "" when none does."""
    if not fresh:
        return ""
    return f"; {len(fresh)} tensors start fresh ({', '.join(fresh[:3])}{', ...' if len(fresh) > 3 else ''})"


def _train(config, data_dir, run, callbacks, emit, resume, context, device, replace=False) -> TrainResult:
    critic = None  # (state file, discriminator weights) that start a new run's discriminator
    if config.init_disc_from and not resume:
        from .warm_start import read_discriminator

        critic = read_discriminator(config.init_disc_from, config)
    # said when training resumes: a resume changes nothing silently
    changed = distributed.decided_by_main(context, lambda: run.changed_settings(config, data_dir) if resume else [])
    train_set, preview_set = open_datasets(config, data_dir)
    ipe = iters_per_epoch(len(train_set), config.batch_size, context)
    total_epochs = config.epochs or (config.niter + config.niter_decay)
    total = config.iters or total_epochs * ipe
    total_epochs = math.ceil(total / ipe)

    torch.manual_seed(config.seed)
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True
    trainer = Trainer(config, device, context, warm_start=not resume)  # a resume's weights come from its state
    if context.is_main:  # everything that could refuse the run has passed: only now is an earlier run replaced
        if replace:
            run.remove_run()
        run.create()
    distributed.barrier(context)
    start = 0
    if resume:
        skipped: list[str] = []
        found = load_newest_state(run.checkpoint_dir, skipped)
        if found is None:
            raise CardiganError(f"{run.root}: no training state to resume from")
        path, state = found
        for reason in skipped:
            emit(Notice(f"skipped a damaged training state: {reason}"))
        resume_from_state(trainer, state, path, config, device)
        start = int(state["iteration"])
        if start >= total:  # before anything is written: a resume that trains nothing changes nothing
            return _already_trained(config, data_dir, run, trainer, emit, context, start, total, ipe, device)
        if context.is_main:  # the damaged states newer than it would crowd the good ones out of keep_checkpoints
            for newer in list_states(run.checkpoint_dir):
                if state_iteration(newer) > start:
                    newer.unlink(missing_ok=True)
        emit(Notice(f"resuming from iteration {start} ({path.name})"))
        moved = _processes_note(state, context, config, ipe)
        if moved:
            emit(Notice(moved))
        if changed:
            emit(Notice("resuming with changed settings: " + ", ".join(changed)
                        + (" (a new batch size changes how many iterations an epoch is, so the run's "
                           "length and learning-rate schedule in epochs)" if any(c.startswith("batch_size ")
                                                                                  for c in changed) else "")))
        if context.is_main:
            run.truncate_stats(start)
    elif config.init_from:
        emit(Notice(f"generator started from {config.init_from}{_fresh_note(trainer.fresh_layers)}"))
    if critic is not None:
        from .warm_start import warm_start_discriminator

        fresh = warm_start_discriminator(trainer.disc, critic[1], config.init_disc_from)
        emit(Notice(f"discriminator started from {critic[0]}{_fresh_note(fresh)}"))
    if context.is_main:
        run.write_config(config, data_dir)
    provenance = _provenance(config, data_dir)
    preview = preview_batch(preview_set, trainer)
    writer = open_tensorboard(run, config, emit, start) if context.is_main else None
    emit(Started(str(run.root), total, ipe, start, str(device), config.to_dict()))
    idle = idle_spectrum_note(config, preview)
    if idle is not None:  # after Started: a run's first event is its start
        emit(Notice.of(idle))

    def save(iteration: int) -> None:
        if not context.is_main:
            return
        networks = trainer.state_dict()
        stop_if_weights_diverged(networks, iteration, run)
        state = {**networks, "iteration": iteration, "epoch": iteration // ipe, "world_size": context.world_size,
                 "rng": rng_state(device), "config": config.to_dict()}
        path = save_state(state, run.checkpoint_dir, iteration, config.keep_checkpoints)
        export_model(trainer, config, run.model_path, {**provenance, "iterations": iteration})
        emit(CheckpointSaved(iteration, str(path), str(run.model_path)))

    schedule = PreviewSchedule(config.sample_every, PREVIEW_SECONDS)

    def sample(iteration: int, now: float, final: bool = False) -> None:
        if context.is_main and iteration != schedule.last and (final or schedule.due(iteration, now)):
            emit(SamplePreview(iteration, str(write_preview(run, trainer, preview, iteration))))
            schedule.written(iteration, time.perf_counter())

    sample(start, time.perf_counter())
    sums: dict[str, float] = {}
    count, window_start, window_iter = 0, time.perf_counter(), start
    speed, last_progress = 0.0, 0.0
    remaining = RemainingTime(total)
    iteration, epoch, stopped, batches = start, -1, False, iter(())
    saved_here = False  # the last iteration wrote its checkpoint (a stop there needs no second save)
    while iteration < total:
        if iteration // ipe != epoch:
            epoch = iteration // ipe
            if hasattr(train_set, "set_epoch"):
                train_set.set_epoch(epoch)
            order = epoch_batches(len(train_set), config.batch_size, epoch, config.seed, context)
            order = order[iteration - epoch * ipe:]
            batches = iter(epoch_loader(train_set, order, config.workers, device.type == "cuda"))
        batch = next(batches)
        seg, real, fan = trainer.inputs(batch)
        trainer.set_lr_factor(lr_factor(iteration, total, config.niter, config.niter_decay))
        if config.renew_critic and iteration % config.renew_critic == 0:
            trainer.renew_pooled_critic()
        losses = trainer.step(seg, real, train_g=trains_generator(config, iteration), fan=fan)
        # the losses as numbers with one device synchronisation, not one per loss and use
        losses = dict(zip(losses, torch.stack([v.float() for v in losses.values()]).tolist()))
        # one collective a step: a rank's bad loss stops every rank now, a stop asked for ends this step
        stop_here = distributed.after_step(context, losses_problem(losses, iteration + 1, run),
                                           callbacks.should_stop(), device)
        iteration += 1
        for name, value in losses.items():
            sums[name] = sums.get(name, 0.0) + value
        count += 1

        now = time.perf_counter()
        if iteration % config.log_every == 0 or iteration == total:
            elapsed = max(now - window_start, 1e-9)
            speed = (iteration - window_iter) * config.batch_size * context.world_size / elapsed
            window_start, window_iter = now, iteration
            means = distributed.mean_over_ranks(context, {k: v / count for k, v in sums.items()}, device)
            values = {(k if "/" in k else LOSS + k): v for k, v in means.items()}  # diagnostics: Diag/
            sums, count = {}, 0
            epoch_of = epoch_number(iteration, ipe, total_epochs)  # as the progress names it (stats module)
            record = {"iter": iteration, "epoch": epoch_of, PROGRESS + "img_per_s": round(speed, 3),
                      PROGRESS + "lr_g": trainer.opt_g.param_groups[0]["lr"],
                      PROGRESS + "world_size": context.world_size, **values}
            if context.is_main:
                run.append_stats(record)
                if writer is not None:
                    for name, value in record.items():
                        if "/" in name:
                            writer.add_scalar(name, value, iteration)
            emit(Scalars(iteration, epoch_of, {k: v for k, v in record.items() if k not in KEYS}))
        if now - last_progress > 0.25 or iteration == total:
            last_progress = now
            emit(ProgressUpdate(iteration, total, epoch_number(iteration, ipe, total_epochs),
                                total_epochs, speed, remaining(iteration, now)))
        sample(iteration, now, final=iteration == total)
        saved_here = iteration % config.checkpoint_every == 0 and iteration < total
        if saved_here:  # rank 0 saves; every rank hears when it refused to (weights diverged)
            distributed.decided_by_main(context, lambda: save(iteration))
        if stop_here:
            stopped = iteration < total
            break
    sample(iteration, time.perf_counter(), final=True)  # where it ended or was stopped
    if writer is not None:
        writer.close()
    if not saved_here:  # stopped right after a checkpoint: that state is this one
        distributed.decided_by_main(context, lambda: save(iteration))
    distributed.barrier(context)
    emit(Finished(iteration, str(run.model_path), stopped))
    return TrainResult(iteration, run.model_path, stopped)


def _provenance(config: TrainConfig, data_dir: Path) -> dict:
    """What the run's model file records of how it was trained."""
    manifest = data_dir / "manifest.json"
    return {"trained_with": "cardigan train", "preset": config.preset,
            **({"started_from": config.init_from} if config.init_from else {}),
            "data": str(data_dir.resolve()),
            "data_manifest_sha256": sha256_file(manifest) if manifest.is_file() else None}


def _already_trained(config, data_dir, run, trainer, emit, context, start, total, ipe, device) -> TrainResult:
    """A resume whose run is at (or past) the length asked for: it trains nothing and leaves
    the run folder as it was (its config.json keeps its data folder and settings, its stats
    and TensorBoard logs their records). Only a model file missing or older than the state (a
    run killed after its last state was written) is written from the state."""
    emit(Started(str(run.root), total, ipe, start, str(device), config.to_dict()))
    if context.is_main and exported_iterations(run.model_path) != start:
        export_model(trainer, config, run.model_path, {**_provenance(config, data_dir), "iterations": start})
    emit(Finished(start, str(run.model_path), False))
    return TrainResult(start, run.model_path, False)


def preview_batch(dataset, trainer: Trainer) -> dict:
    """Fixed samples for preview grids: the first few validation pairs and a fixed z."""
    config, device = trainer.config, trainer.device
    items = [dataset[i] for i in range(min(PREVIEW_COUNT, len(dataset)))]
    seg, real, fan = trainer.inputs({key: torch.stack([item[key] for item in items])
                                     for key in ("label", "image", "fan")})
    z = noise = None
    if config.use_vae:
        z = torch.randn(len(items), config.z_dim, generator=torch.Generator().manual_seed(1)).to(device)
    if config.noise_nc:
        noise = seeded_noise(config.noise_nc, seg.shape[-2:], range(len(items))).to(device)
    return {"seg": seg, "z": z, "noise": noise, "fan": fan,
            "ids": torch.stack([item["label_ids"] for item in items]).numpy(),
            "real": real[:, 0].cpu().numpy()}


def idle_spectrum_note(config: TrainConfig, preview: dict) -> Message | None:
    """What to say when the spectral loss is on but no window of it lies inside the preview
    pairs' fans (images at 64 pixels or fewer): it stays 0 however long the run, which its
    logged zero alone does not explain; None when it can act."""
    from .losses import SPECTRUM_WINDOW, spectrum_windows

    if config.lambda_spectrum <= 0:
        return None
    inside = preview["fan"] if preview["fan"] is not None else torch.ones_like(preview["seg"][:, :1])
    if spectrum_windows(inside).shape[0]:
        return None
    return Message(option("lambda_spectrum"), f": no {SPECTRUM_WINDOW}-pixel window lies inside the fan of "
                   f"{config.image_size}-pixel images, so the spectral loss stays 0 (larger images give it room)")


def write_preview(run: RunFolder, trainer: Trainer, preview: dict, iteration: int) -> Path:
    """The preview grid at ``iteration``; the random state is left as it was, so when
    previews are written (by the clock, too) never changes the training."""
    devices = [trainer.device] if trainer.device.type == "cuda" else []
    with torch.random.fork_rng(devices=devices):
        fake = trainer.synthesize(preview["seg"], preview["z"], preview["noise"],
                                  preview["fan"])[:, 0].cpu().numpy()
    return run.write_sample_grid(iteration, preview["ids"], preview["real"], fake)


def export_model(trainer: Trainer, config: TrainConfig, path: Path, provenance: dict) -> None:
    """Write the current generator (and encoder) as a native model file."""
    stack = trainer.stack
    model = GeneratorModel(config=stack.generator.config, generator=stack.generator,
                           kind="native", name=path.stem, labels=label_table(),
                           encoder=stack.encoder,
                           provenance={**provenance, "date": datetime.now(timezone.utc).isoformat(
                               timespec="seconds")})
    save_model_file(model, path)


def exported_iterations(path: Path) -> int | None:
    """The iterations the run's model file says it was written at (its provenance), or None
    when there is no such file or it cannot be read."""
    from ..models.modelfile import read_document

    if not path.is_file():
        return None
    try:
        iterations = read_document(path)[0].get("provenance", {}).get("iterations")
    except (CardiganError, OSError, AttributeError):
        return None
    return iterations if isinstance(iterations, int) else None


def open_tensorboard(run: RunFolder, config: TrainConfig, emit, start: int = 0):
    """A TensorBoard writer for the run; a resumed run's drops what the stopped run logged
    after ``start`` (its state's iteration), as stats.jsonl does, so the curves do not overlap."""
    if not config.tensorboard:
        return None
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:
        emit(Notice.of(Message(option("tensorboard"), ": the tensorboard package is not installed; "
                               "logging to stats.jsonl only (pip install tensorboard)")))
        return None
    return SummaryWriter(log_dir=str(run.root / "tensorboard"), purge_step=start or None)
