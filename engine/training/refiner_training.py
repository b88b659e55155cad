"""Training a texture refiner (:mod:`engine.nets.refiner`) for a model on a prepared dataset.

The model's generator draws every train mask of the dataset in that pair's fan, once (the
images are kept in the run folder, so a resumed run does not draw them again). The refiner
then learns, image batch by image batch, to rework those images so that a critic cannot tell
them from the real train images, while its output's 4x4-block means stay within
``lambda_reg``'s pull of its input's (the self-regularisation) and the energy of its finest
detail (the image minus a 3x3 box blur, squared, per 4x4 block) within ``lambda_detail``'s
pull of its input's: without that, the refiner smoothed the grain away. With ``near_field``
set, the refiner's change is confined to the fan's near field (:func:`~engine.nets.refiner.reach_weight`)
while it trains, as it is when it is used.

The critic (:class:`Critic`) reads the image with the two fan guides (where a pixel lies in
depth and how far inside the edge) twice: at half size, four strided convolutions with batch
norm, then both a verdict per patch and one on the features averaged over the whole image (the
texture and the image's overall statistics); and at full size, three strided convolutions and
a verdict per patch (the finest grain). Real and refined images go through
it in one batch. Losses are the non-saturating GAN losses (softplus).

The run folder holds ``inputs.npz`` (the drawn images), ``run.json`` (the model, the data and
the settings it belongs to) and ``state.pt`` (every weight, both optimizers' states, the
iteration and the random state), written atomically every ``checkpoint_every`` iterations and
at a stop, and read with ``torch.load(weights_only=True)``. A run restarted with the same
folder resumes from it (a larger ``iters`` trains a finished run on); one with another model,
dataset or settings is refused.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from ..errors import CardiganError
from .refiner_settings import RefinerSettings
from ..fileio import atomic_path
from ..nets.refiner import Refiner, cut_change, guide_coverage, refiner_guides
from ..progress import Cancelled, Progress, ProgressCallback, StopCheck, never_stop, no_progress
from ..safeload import load_tensor_file

STATE_FORMAT = "cardigan-refiner-state"
INPUT_SEED = 200_000  # train mask i is drawn with seed INPUT_SEED + i


class Critic(nn.Module):
    """(image, guides) -> verdicts, as (N, verdicts): per patch and pooled over the image at half
    size (texture and layout over about 60 pixels), and per patch at full size (the finest
    grain, which the half-size view cannot see: without it the refiner is free to draw ripples
    a pixel or two wide)."""

    def __init__(self, width: int = 16) -> None:
        super().__init__()
        self.coarse = self._stack(width, 4)
        self.fine = self._stack(width, 3)
        self.coarse_patch = nn.Conv2d(width * 8, 1, 1)
        self.coarse_pooled = nn.Linear(width * 8, 1)
        self.fine_patch = nn.Conv2d(width * 4, 1, 1)

    @staticmethod
    def _stack(width: int, depth: int) -> nn.Sequential:
        layers, cin = [], 3
        for i in range(depth):
            cout = width * 2 ** i
            layers += [nn.Conv2d(cin, cout, 3, stride=2, padding=1), nn.BatchNorm2d(cout), nn.LeakyReLU(0.2)]
            cin = cout
        return nn.Sequential(*layers)

    def forward(self, image: torch.Tensor, guides: torch.Tensor) -> torch.Tensor:
        x = torch.cat([image, guides], 1)
        coarse = self.coarse(F.avg_pool2d(x, 2))
        fine = self.fine(x)
        return torch.cat([self.coarse_patch(coarse).flatten(1), self.coarse_pooled(coarse.mean(dim=(2, 3))),
                          self.fine_patch(fine).flatten(1)], 1)


def block_means(images: torch.Tensor) -> torch.Tensor:
    return F.avg_pool2d(images, 4)


def detail_energy(images: torch.Tensor) -> torch.Tensor:
    """Per 4x4 block, the mean square of the image minus its 3x3 box blur (the finest detail)."""
    return F.avg_pool2d((images - F.avg_pool2d(images, 3, stride=1, padding=1, count_include_pad=False)) ** 2, 4)


def _to_unit(images: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(images)).float().div(127.5).sub(1.0)[:, None]


def _model_key(model) -> str:
    digest = hashlib.sha256(json.dumps(model.config.to_dict(), sort_keys=True).encode())
    for tensor in model.generator.state_dict().values():
        digest.update(tensor.detach().cpu().float().numpy().tobytes()[:4096])
    return digest.hexdigest()[:16]


def draw_inputs(model, labels: np.ndarray, fans, progress: ProgressCallback = no_progress,
                should_stop: StopCheck = never_stop) -> np.ndarray:
    """(N, H, W) uint8: the model's generator's images of ``labels`` in ``fans``, before any
    refiner (mask i with seed :data:`INPUT_SEED` + i)."""
    from ..evaluation.evaluate import synthesize_all
    from ..synthesizer import Synthesizer

    return synthesize_all(Synthesizer(model, device="cpu", refiner=False), labels, INPUT_SEED,
                          "drawing the train masks", progress, should_stop, fans=list(fans))


def check_refiner_folder(run_dir: Path, data: Path) -> None:
    """A refiner's run folder is new, empty or one of its own (with ``run.json``), and lies
    outside the dataset: a file, a training run's folder, a dataset or any other folder holding
    files is refused before anything is written into it."""
    from ..fileio import describe_os_error
    from .run_folder import check_run_outside_data, writable_problem

    if run_dir.is_symlink() and not run_dir.exists():
        raise CardiganError(f"{run_dir}: is a link to nothing; give a new or empty --run-dir")
    if run_dir.exists() and not run_dir.is_dir():
        raise CardiganError(f"{run_dir}: is a file, not a folder; give a new or empty --run-dir")
    check_run_outside_data(run_dir, data)
    try:
        holds_other_files = run_dir.is_dir() and not (run_dir / "run.json").exists() and any(run_dir.iterdir())
    except OSError as exc:  # a folder it may not read
        raise CardiganError(describe_os_error(exc, run_dir)) from None
    if holds_other_files:
        raise CardiganError(f"{run_dir}: holds other files and no refiner run; give a new or empty --run-dir")
    problem = writable_problem(run_dir)
    if problem:
        raise CardiganError(problem)


class RefinerRun:
    """One refiner's training in one run folder (see the module)."""

    def __init__(self, model, data: Path, run_dir: Path, settings: RefinerSettings = RefinerSettings()) -> None:
        if getattr(model, "generator", None) is None or not getattr(model.config, "fan", False):
            raise CardiganError("a texture refiner needs a generator model that takes the fan "
                                "(not the simulator, an NVlabs model or a model trained without --fan)")
        self.model, self.data, self.run_dir, self.settings = model, Path(data), Path(run_dir), settings.check()
        # what the state means; --iters may grow between runs (a finished run trains on)
        kept = {k: v for k, v in dataclasses.asdict(settings).items() if k not in ("iters", "checkpoint_every")}
        if kept["near_field"] is None:  # folders from before the option existed stay resumable
            del kept["near_field"]
        self.record = {"model": _model_key(model), "data": str(self.data.resolve()), "settings": kept}

    # -- data -------------------------------------------------------------------------
    def load(self, progress: ProgressCallback, should_stop: StopCheck) -> None:
        from ..evaluation.evaluate import load_split_with_fans
        from ..evaluation.fit_images import check_model_size

        run_file = self.run_dir / "run.json"
        check_refiner_folder(self.run_dir, self.data)
        if run_file.exists():
            try:
                stored = json.loads(run_file.read_text())
            except (OSError, ValueError):
                stored = None
            if stored != self.record:
                raise CardiganError(f"{self.run_dir}: holds a refiner run for another model, dataset or "
                                    "settings; give a new --run-dir (or delete this one)")
        images, labels, _, fans = load_split_with_fans(self.data, "train", None)
        every = self.settings.every
        images, labels, fans = images[::every], labels[::every], fans[::every]
        check_model_size(self.data, "train", images, self.model)
        if not run_file.exists():  # claimed only once the data is known good: a refused one can be corrected
            self.run_dir.mkdir(parents=True, exist_ok=True)
            with atomic_path(run_file) as tmp:
                tmp.write_text(json.dumps(self.record, indent=1) + "\n")
        inputs_file = self.run_dir / "inputs.npz"
        drawn = None
        if inputs_file.exists():
            try:
                with np.load(inputs_file) as stored:
                    drawn = stored["images"] if stored["images"].shape == labels.shape else None
            except (OSError, ValueError, KeyError):
                drawn = None
        if drawn is None:
            drawn = draw_inputs(self.model, labels, fans, progress, should_stop)
            with atomic_path(inputs_file) as tmp, open(tmp, "wb") as handle:
                np.savez(handle, images=drawn)
        self.real, self.drawn, self.fans = _to_unit(images), _to_unit(drawn), list(fans)

    # -- state ------------------------------------------------------------------------
    def _build(self) -> None:
        torch.manual_seed(self.settings.seed)
        self.refiner = Refiner(self.settings.width, self.settings.near_field)
        self.critic = Critic()
        self.opt_r = torch.optim.Adam(self.refiner.parameters(), self.settings.lr, betas=(0.5, 0.999))
        self.opt_c = torch.optim.Adam(self.critic.parameters(), 2 * self.settings.lr, betas=(0.5, 0.999))
        self.generator = torch.Generator().manual_seed(self.settings.seed)
        self.iteration = 0

    def _state_file(self) -> Path:
        return self.run_dir / "state.pt"

    def save(self) -> None:
        state = {"format": STATE_FORMAT, "iteration": self.iteration, "refiner": self.refiner.state_dict(),
                 "critic": self.critic.state_dict(), "opt_r": self.opt_r.state_dict(),
                 "opt_c": self.opt_c.state_dict(), "rng": self.generator.get_state()}
        with atomic_path(self._state_file()) as tmp:
            torch.save(state, tmp)

    def restore(self) -> None:
        path = self._state_file()
        if not path.exists():
            return
        state = load_tensor_file(path, "refiner training state")
        if not isinstance(state, dict) or state.get("format") != STATE_FORMAT:
            raise CardiganError(f"{path}: not a refiner training state (delete it to start over)")
        try:
            self.refiner.load_state_dict(state["refiner"])
            self.critic.load_state_dict(state["critic"])
            self.opt_r.load_state_dict(state["opt_r"])
            self.opt_c.load_state_dict(state["opt_c"])
            self.generator.set_state(state["rng"])
            self.iteration = int(state["iteration"])
        except (KeyError, RuntimeError, ValueError, TypeError) as exc:
            raise CardiganError(f"{path}: the refiner training state is damaged ({type(exc).__name__}); "
                                "delete it to start over") from None

    # -- training ---------------------------------------------------------------------
    def step(self) -> dict:
        n, b = len(self.real), self.settings.batch_size
        pick = torch.randint(0, n, (b,), generator=self.generator)
        other = torch.randint(0, n, (b,), generator=self.generator)
        height, width = self.real.shape[-2:]
        source, real = self.drawn[pick], self.real[other]
        source_guides = refiner_guides([self.fans[i] for i in pick.tolist()], height, width)
        real_guides = refiner_guides([self.fans[i] for i in other.tolist()], height, width)
        alpha = guide_coverage(source_guides)
        noise = torch.randn(b, 1, height, width, generator=self.generator)
        refined = cut_change(source, self.refiner(source, source_guides, noise), alpha)  # as the Synthesizer does
        guides = torch.cat([real_guides, source_guides])
        verdict = self.critic(torch.cat([real, refined.detach()]), guides)
        critic_loss = F.softplus(-verdict[:b]).mean() + F.softplus(verdict[b:]).mean()
        self.opt_c.zero_grad(set_to_none=True)
        critic_loss.backward()
        self.opt_c.step()
        adversarial = F.softplus(-self.critic(torch.cat([real, refined]), guides)[b:]).mean()
        regularisation = (block_means(refined) - block_means(source)).abs().mean()
        detail = (detail_energy(refined) - detail_energy(source)).abs().mean()
        loss = adversarial + self.settings.lambda_reg * regularisation + self.settings.lambda_detail * detail
        self.opt_r.zero_grad(set_to_none=True)
        loss.backward()
        self.opt_r.step()
        self.iteration += 1
        return {"critic": critic_loss.item(), "adversarial": adversarial.item(),
                "regularisation": regularisation.item(), "detail": detail.item()}

    def run(self, progress: ProgressCallback = no_progress, should_stop: StopCheck = never_stop):
        """Train (resuming from the run folder's state) and return the model with the refiner.
        A stop saves the state first and raises :class:`~engine.progress.Cancelled`."""
        self.load(progress, should_stop)
        self._build()
        self.restore()
        self.refiner.train()
        self.critic.train()
        total = self.settings.iters
        while self.iteration < total:
            if should_stop():
                self.save()
                raise Cancelled()
            try:
                losses = self.step()
                if self.iteration % self.settings.checkpoint_every == 0 or self.iteration == total:
                    self.save()
                progress(Progress("training the refiner", self.iteration, total,
                                  "  ".join(f"{k} {v:.3f}" for k, v in losses.items())))
            except KeyboardInterrupt:  # Ctrl-C, wherever it lands: keep what was learnt up to now
                self.save()
                raise
        return dataclasses.replace(self.model, refiner=self.refiner.eval())


def train_refiner(model, data: Path | str, run_dir: Path | str, settings: RefinerSettings = RefinerSettings(),
                  progress: ProgressCallback = no_progress, should_stop: StopCheck = never_stop):
    """``model`` with a texture refiner trained on ``data``'s train split (see the module)."""
    return RefinerRun(model, Path(data), Path(run_dir), settings).run(progress, should_stop)
