"""Speed benchmarks: every figure measured twice in one run, optimised path vs plain path.

The plain path is the network as trained (eager, float32, NCHW, spectral norm recomputed).
The optimised path is what cardiGAN uses: :mod:`engine.fast` for synthesis (on CUDA in
bfloat16, replayed as CUDA graphs; on the CPU float32 and sparse); for training,
mixed precision and channels-last where the device supports them. Weights are random (speed
does not depend on them); label maps are generated apical views, as users paint them.
"""

from __future__ import annotations

import os
import platform
import statistics
import time
from dataclasses import dataclass

import numpy as np
import torch

from .devices import device_name, resolve_device
from .fast import optimize_for_inference
from .fast.graphs import GraphedGenerator
from .labels import one_hot
from .nets import GeneratorConfig, SPADEGenerator
from .nets.noise import seeded_noise
from .progress import Progress, ProgressCallback, no_progress
from .training.config import resolve_config


@dataclass(frozen=True)
class BenchSettings:
    size: int = 256
    batches: tuple[int, ...] = (1, 16, 64)
    repeats: int = 5
    train_batch: int = 16
    train_steps: int = 5
    ngf: int | None = None  # narrower networks than the real configurations (smoke tests)

    @classmethod
    def for_device(cls, device: torch.device, quick: bool) -> "BenchSettings":
        if device.type == "cpu":
            # Larger batches do not raise CPU throughput; they only make the run long.
            return cls(batches=(1, 4), repeats=2 if quick else 4, train_batch=2,
                       train_steps=2 if quick else 4, size=256)
        return cls(repeats=5 if quick else 20, train_steps=5 if quick else 20)


def bench_configs(ngf: int | None = None) -> dict[str, GeneratorConfig]:
    widths = {} if ngf is None else {"ngf": ngf}
    return {"seed": resolve_config("seed", **widths).generator_config(),
            "lite": resolve_config("lite", **widths).generator_config()}


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def time_call(fn, device: torch.device, repeats: int, warmup: int = 1) -> float:
    """Median seconds of ``fn()`` over ``repeats`` runs after ``warmup`` runs."""
    for _ in range(warmup):
        fn()
    sync(device)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        sync(device)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def label_batch(batch: int, size: int) -> torch.Tensor:
    from .anatomy import VIEWS, PHASES, template_mask

    masks = [template_mask(VIEWS[i % 2], PHASES[(i // 2) % 2], seed=i, size=size) for i in range(batch)]
    return one_hot(np.stack(masks))


def pair(plain_s: float, fast_s: float, batch: int) -> dict:
    return {"batch": batch,
            "plain_ms_per_image": round(1000 * plain_s / batch, 3),
            "optimised_ms_per_image": round(1000 * fast_s / batch, 3),
            "plain_img_s": round(batch / plain_s, 2), "optimised_img_s": round(batch / fast_s, 2),
            "ratio": round(plain_s / fast_s, 2)}


def optimised_path(plain: SPADEGenerator, device: torch.device):
    """(description, callable(seg, labels, noise) -> output): what the Synthesizer runs."""
    if device.type == "cuda":
        fast = optimize_for_inference(plain, device, dtype=torch.bfloat16)
        graphed = GraphedGenerator(fast)
        return (f"engine.fast {fast.mode}, bfloat16, CUDA graphs",
                lambda seg, labels, noise: graphed(labels, noise=noise))
    fast = optimize_for_inference(plain, device)
    return f"engine.fast {fast.mode}, float32", lambda seg, labels, noise: fast(seg, labels=labels, noise=noise)


def bench_synthesis(config: GeneratorConfig, device: torch.device, settings: BenchSettings,
                    progress: ProgressCallback, stage: str) -> dict:
    torch.manual_seed(0)
    plain = SPADEGenerator(config).to(device).eval()
    description, fast = optimised_path(plain, device)
    results = {"optimised_path": description}
    for i, batch in enumerate(settings.batches):
        seg = label_batch(batch, settings.size).to(device)
        labels = seg.argmax(1).to(torch.uint8)
        # one noise map for both paths, so that their difference measures the arithmetic alone
        noise = (seeded_noise(config.noise_nc, seg.shape[-2:], range(batch)).to(device)
                 if config.noise_nc else None)
        with torch.inference_mode():
            plain_s = time_call(lambda: plain(seg, noise=noise), device, settings.repeats)
            fast_s = time_call(lambda: fast(seg, labels, noise), device, settings.repeats)
            difference = (plain(seg, noise=noise) - fast(seg, labels, noise)).abs()
        results[f"batch_{batch}"] = {**pair(plain_s, fast_s, batch),
                                     "max_abs_difference": difference.max().item(),
                                     "mean_abs_difference": difference.mean().item()}
        progress(Progress(stage, i + 1, len(settings.batches)))
    results["parameters"] = sum(p.numel() for p in plain.parameters())
    return results


def bench_training(device: torch.device, settings: BenchSettings, progress: ProgressCallback) -> dict:
    from .training.trainer import Trainer

    results = {}
    batch = settings.train_batch
    seg = label_batch(batch, settings.size).to(device)
    real = (torch.rand(batch, 1, settings.size, settings.size) * 2 - 1).to(device)
    for i, (name, overrides) in enumerate((("plain", dict(amp="off", channels_last=False)),
                                           ("optimised", dict(amp="auto", channels_last=True)))):
        widths = {} if settings.ngf is None else {"ngf": settings.ngf, "ndf": settings.ngf}
        config = resolve_config("seed", batch_size=batch, device=str(device), **widths, **overrides)
        torch.manual_seed(0)
        trainer = Trainer(config, device)

        def step():
            trainer.generator_step(seg, real)
            trainer.discriminator_step(seg, real)

        results[name] = time_call(step, device, settings.train_steps)
        progress(Progress("training step", i + 1, 2))
    return {"batch": batch, "size": settings.size,
            "plain_img_s": round(batch / results["plain"], 2),
            "optimised_img_s": round(batch / results["optimised"], 2),
            "ratio": round(results["plain"] / results["optimised"], 2)}


def machine_info(device: torch.device) -> dict:
    info = {"device": device_name(device), "torch": torch.__version__,
            "python": platform.python_version(), "platform": platform.platform(),
            "cpu_threads": torch.get_num_threads(), "cpu_count": os.cpu_count()}
    if device.type == "cuda":
        info["cuda"] = torch.version.cuda
        info["gpu"] = torch.cuda.get_device_name(device)
    return info


def run_bench(device: str = "auto", quick: bool = False, progress: ProgressCallback = no_progress,
              training: bool = True, settings: BenchSettings | None = None) -> dict:
    """All figures as a JSON-ready dict."""
    dev = resolve_device(device)
    settings = settings or BenchSettings.for_device(dev, quick)
    if dev.type == "cuda":
        torch.backends.cudnn.benchmark = True  # both paths: each picks its fastest kernels
    report = {"machine": machine_info(dev), "settings": {**settings.__dict__, "quick": quick},
              "synthesis": {}, "training": None}
    for name, config in bench_configs(settings.ngf).items():
        report["synthesis"][name] = bench_synthesis(config, dev, settings, progress,
                                                    f"synthesis ({name})")
    if training:
        report["training"] = {"seed": bench_training(dev, settings, progress)}
    return report


def format_bench(report: dict) -> str:
    lines = [f"{report['machine']['device']}, torch {report['machine']['torch']}",
             f"{'configuration':<10}{'batch':>6}{'plain ms/img':>14}{'optimised':>12}{'img/s':>10}{'ratio':>8}"]
    for name, figures in report["synthesis"].items():
        for key, row in figures.items():
            if not key.startswith("batch_"):
                continue
            lines.append(f"{name:<10}{row['batch']:>6}{row['plain_ms_per_image']:>14.1f}"
                         f"{row['optimised_ms_per_image']:>12.1f}{row['optimised_img_s']:>10.1f}"
                         f"{row['ratio']:>8.2f}")
    paths = {figures["optimised_path"] for figures in report["synthesis"].values()}
    lines.append("optimised synthesis: " + "; ".join(sorted(paths)))
    if report.get("training"):
        t = report["training"]["seed"]
        lines.append(f"training (seed config, batch {t['batch']}, {t['size']}px): plain "
                     f"{t['plain_img_s']:.2f} img/s, optimised {t['optimised_img_s']:.2f} img/s, "
                     f"ratio {t['ratio']:.2f}")
    return "\n".join(lines)
