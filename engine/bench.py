"""Speed benchmarks: every figure measured twice in one run, optimised path vs plain path.

The plain path is the network as trained (eager, float32, NCHW, spectral norm recomputed).
The optimised path is what cardiGAN uses: :mod:`engine.fast` for synthesis (on CUDA in
bfloat16, replayed as CUDA graphs; on the CPU float32 and sparse); for training,
mixed precision and channels-last where the device supports them and one discriminator pass
per iteration. Weights are random (speed does not depend on them); label maps are generated
apical views, as users paint them.

Training figures come with a roofline (:mod:`engine.roofline`): the FLOPs of one iteration
of each path, the GFLOP/s achieved and the share of this machine's measured peak for the
path's dtype. Incremental synthesis (:mod:`engine.fast.incremental`) is timed on 15-pixel
dabs against a full pass of the same network, in the same run.
"""

from __future__ import annotations

import os
import platform
import statistics
import time
from collections.abc import Callable

import numpy as np
import torch

from .bench_settings import PEAK_REPEATS, BenchSettings
from .devices import device_name, resolve_device
from .fast import optimize_for_inference
from .fast.graphs import GraphedGenerator
from .labels import one_hot
from .nets import GeneratorConfig, SPADEGenerator
from .nets.noise import seeded_noise
from .progress import Progress, ProgressCallback, no_progress
from .training.config import resolve_config


def bench_configs(ngf: int | None = None) -> dict[str, GeneratorConfig]:
    widths = {} if ngf is None else {"ngf": ngf}
    return {"seed": resolve_config("seed", **widths).generator_config(),
            "lite": resolve_config("lite", **widths).generator_config()}


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def time_call(fn, device: torch.device, repeats: int, warmup: int = 1,
              after_run: Callable[[], None] = lambda: None) -> float:
    """Median seconds of ``fn()`` over ``repeats`` runs after ``warmup`` runs; ``after_run`` is
    called after each run (a heartbeat: one run of a large network on a CPU takes seconds)."""
    for _ in range(warmup):
        fn()
        after_run()
    sync(device)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        sync(device)
        times.append(time.perf_counter() - start)
        after_run()
    return statistics.median(times)


def label_batch(batch: int, size: int) -> torch.Tensor:
    from .anatomy import VIEWS, PHASES, template_mask

    masks = [template_mask(VIEWS[i % 2], PHASES[(i // 2) % 2], seed=i, size=size) for i in range(batch)]
    return one_hot(np.stack(masks))


def class_maps(config: GeneratorConfig, batch: int, size: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(one-hot input with the network's classes, (N, H, W) uint8 class ids) of ``batch``
    apical views; fan models see them inside the median fan."""
    ids = in_fan(config, label_batch(batch, size).argmax(1))
    return one_hot(ids, config.classes), ids.to(torch.uint8)


def in_fan(config: GeneratorConfig, ids: torch.Tensor) -> torch.Tensor:
    """(N, H, W) label ids as the network takes them: for fan models, the median fan's
    "outside" class where it does not cover the picture."""
    from .fan import default_fan, fan_alpha, fan_class_ids

    if not config.fan:
        return ids
    alpha = torch.from_numpy(fan_alpha(default_fan(), *ids.shape[-2:]))[None, None]
    return fan_class_ids(ids, alpha.expand(len(ids), -1, -1, -1), config.label_nc)


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


def out_of_saturation(plain: SPADEGenerator, seg: torch.Tensor, noise: torch.Tensor | None) -> None:
    """Scale the last convolution of a randomly initialised generator so that its output
    spreads with a standard deviation of 0.5 before the tanh. Untrained, it reaches the tanh
    in the thousands, every pixel comes out at exactly -1 or 1 and two paths would agree
    however different their arithmetic; a trained model's output is spread like this."""
    spread = []
    hook = plain.conv_img.register_forward_hook(lambda module, args, out: spread.append(out.std().item()))
    with torch.inference_mode():
        plain(seg, noise=noise)
    hook.remove()
    with torch.no_grad():
        plain.conv_img.weight.mul_(0.5 / spread[0])
        plain.conv_img.bias.mul_(0.5 / spread[0])


def saturated_share(image: torch.Tensor) -> float:
    """The share of output pixels the tanh has pinned at -1 or 1: where it is large, two
    paths' agreement says little."""
    return round((image.abs() > 0.999).float().mean().item(), 4)


def bench_synthesis(config: GeneratorConfig, device: torch.device, settings: BenchSettings,
                    progress: ProgressCallback, stage: str) -> dict:
    torch.manual_seed(0)
    plain = SPADEGenerator(config).to(device).eval()
    seg, _ = class_maps(config, 1, settings.size)
    out_of_saturation(plain, seg.to(device), seeded_noise(config.noise_nc, seg.shape[-2:], [0]).to(device)
                      if config.noise_nc else None)
    description, fast = optimised_path(plain, device)
    results = {"optimised_path": description}
    runs_per_batch = 2 * (1 + settings.repeats)  # each path: a warm-up and the timed runs
    total = len(settings.batches) * runs_per_batch
    runs = iter(range(1, total + 1))

    def ran() -> None:  # every run told: one is seconds long on a CPU
        progress(Progress(stage, next(runs), total))

    for batch in settings.batches:
        seg, labels = class_maps(config, batch, settings.size)
        seg, labels = seg.to(device), labels.to(device)
        # one noise map for both paths, so that their difference measures the arithmetic alone
        noise = (seeded_noise(config.noise_nc, seg.shape[-2:], range(batch)).to(device)
                 if config.noise_nc else None)
        with torch.inference_mode():
            plain_s = time_call(lambda: plain(seg, noise=noise), device, settings.repeats, after_run=ran)
            fast_s = time_call(lambda: fast(seg, labels, noise), device, settings.repeats, after_run=ran)
            reference = plain(seg, noise=noise)
            difference = (reference - fast(seg, labels, noise)).abs()
        results[f"batch_{batch}"] = {**pair(plain_s, fast_s, batch),
                                     "max_abs_difference": difference.max().item(),
                                     "mean_abs_difference": difference.mean().item(),
                                     "saturated_share": saturated_share(reference)}
    results["parameters"] = sum(p.numel() for p in plain.parameters())
    return results


TRAINING_PATHS = {
    "plain": dict(amp="off", channels_last=False, one_d_pass=False),  # eager float32, NCHW, two D passes
    "optimised": {},  # what `cardigan train` does: the defaults
}


def training_batch(config, batch: int, size: int) -> dict:
    """A dataset-like batch: apical label maps, random images, the median fan."""
    from .fan import default_fan, fan_alpha

    labels = label_batch(batch, size)
    image = torch.rand(batch, 1, size, size, generator=torch.Generator().manual_seed(0)) * 2 - 1
    fan = torch.from_numpy(fan_alpha(default_fan(), size, size))[None, None].expand(batch, -1, -1, -1)
    return {"label": labels, "image": image, "fan": fan.contiguous()}


def bench_training(device: torch.device, settings: BenchSettings, progress: ProgressCallback,
                   peaks: dict | None = None) -> dict:
    """Per preset: img/s of the plain and the optimised training step, and their roofline."""
    from .roofline import iteration_flops
    from .training.trainer import Trainer

    from .training.config import PRESETS

    results: dict = {}
    widths = {} if settings.ngf is None else {"ngf": settings.ngf, "ndf": settings.ngf}
    total, done = len(settings.train_presets) * len(TRAINING_PATHS), 0
    for preset in settings.train_presets:
        batch = settings.train_batch or PRESETS[preset]["batch_size"]  # 0: the preset's own
        row: dict = {"batch": batch, "size": settings.size}
        for name, overrides in TRAINING_PATHS.items():
            config = resolve_config(preset, batch_size=batch, device=str(device), image_size=settings.size,
                                    **widths, **overrides)
            torch.manual_seed(0)
            trainer = Trainer(config, device)
            data = training_batch(config, batch, settings.size)
            seg, real, fan = trainer.inputs(data)
            seconds = time_call(lambda: trainer.step(seg, real, fan=fan), device, settings.train_steps)
            flops = iteration_flops(trainer, data)
            dtype = str(trainer.dtype or torch.float32).replace("torch.", "")
            figures = {"img_s": round(batch / seconds, 3), "s_per_iteration": round(seconds, 4),
                       "dtype": dtype, "gflop_per_iteration": round(flops / 1e9, 2),
                       "achieved_gflop_s": round(flops / seconds / 1e9, 1)}
            if peaks and dtype in peaks:
                figures["peak_gflop_s"] = round(peaks[dtype]["gflop_s"], 1)
                figures["percent_of_peak"] = round(100 * flops / seconds / 1e9 / peaks[dtype]["gflop_s"], 1)
            row[name] = figures
            done += 1
            progress(Progress("training step", done, total))
        row["ratio"] = round(row["optimised"]["img_s"] / row["plain"]["img_s"], 2)
        results[preset] = row
    return results


def bench_peaks(device: torch.device, quick: bool, small: bool = False) -> dict:
    """This machine's measured peak GFLOP/s for float32 and bfloat16 (:func:`machine_peak`;
    ``small``: small problems, for smoke tests)."""
    from .roofline import machine_peak

    peaks = {}
    for dtype in (torch.float32, torch.bfloat16):
        peak = machine_peak(device, dtype, repeats=PEAK_REPEATS[quick], size=512 if small else None)
        peaks[peak.dtype] = {"matmul_gflop_s": round(peak.matmul_gflops, 1),
                             "conv3x3_gflop_s": round(peak.conv_gflops, 1), "gflop_s": round(peak.gflops, 1)}
    return peaks


def dabs(labels: np.ndarray, count: int, radius: float, changes, seed: int = 0) -> list[tuple[int, int, int]]:
    """(row, column, class) of ``count`` round dabs of ``radius`` on (H, W) ``labels``, each
    painting a class other than the one under its centre, inside the picture, and changing the
    network's input (``changes(painted)``: a dab outside a fan model's fan does not)."""
    rng = np.random.default_rng(seed)
    size = labels.shape[0]
    yy, xx = np.mgrid[:size, :size]
    found: list[tuple[int, int, int]] = []
    while len(found) < count:
        y, x = (int(v) for v in rng.integers(8, size - 8, 2))
        value = int((labels[y, x] + 1 + rng.integers(0, 3)) % 4)
        painted = labels.copy()
        painted[(yy - y) ** 2 + (xx - x) ** 2 <= radius ** 2] = value
        if changes(painted):
            found.append((y, x, value))
    return found


def bench_incremental(config: GeneratorConfig, device: torch.device, settings: BenchSettings,
                      progress: ProgressCallback, stage: str) -> dict:
    """A full pass against the incremental path after a ``dab_size``-pixel dab, per dab."""
    from .fast.incremental import IncrementalGenerator

    torch.manual_seed(0)
    size, radius = settings.size, settings.dab_size / 2
    base = label_batch(1, size).argmax(1)[0].numpy()  # labels 0-3: what is painted
    noise = seeded_noise(config.noise_nc, (size, size), [0]) if config.noise_nc else None
    yy, xx = np.mgrid[:size, :size]

    def inputs(labels: np.ndarray):
        ids = in_fan(config, torch.from_numpy(labels.astype(np.int64))[None])
        return one_hot(ids, config.classes).to(device), ids.to(device)

    seg, ids = inputs(base)
    plain = SPADEGenerator(config).eval()
    out_of_saturation(plain, seg.cpu(), noise)
    fast = optimize_for_inference(plain, device)
    incremental = IncrementalGenerator(fast)
    full_s = time_call(lambda: fast(seg, labels=ids, noise=noise), device, settings.repeats)
    rows, worst = [], 0.0
    chosen = dabs(base, settings.dabs, radius, lambda painted: not torch.equal(inputs(painted)[1], ids))
    for i, (y, x, value) in enumerate(chosen):
        painted = base.copy()
        painted[(yy - y) ** 2 + (xx - x) ** 2 <= radius ** 2] = value
        seg2, ids2 = inputs(painted)
        times = []
        for _ in range(1 + max(1, settings.repeats)):  # the first, a warm-up, is not timed
            incremental(seg, ids, noise)  # the cache holds the map before the dab
            start = time.perf_counter()
            out = incremental(seg2, ids2, noise)
            sync(device)
            times.append(time.perf_counter() - start)
        times = times[1:]  # a dab's first update allocates its region's buffers: half again slower
        worst = max(worst, (out - fast(seg2, labels=ids2, noise=noise)).abs().max().item())
        rows.append({"dab": [y, x, value], "ms": round(1000 * statistics.median(times), 2),
                     "mode": incremental.last["mode"], "fraction": round(incremental.last["fraction"], 3)})
        progress(Progress(stage, i + 1, len(chosen)))
    ms = [r["ms"] for r in rows]
    return {"full_ms": round(1000 * full_s, 2), "dab_pixels": settings.dab_size,
            "incremental_ms_median": round(statistics.median(ms), 2),
            "incremental_ms_min": min(ms), "incremental_ms_max": max(ms),
            "ratio_median": round(statistics.median(ms) / (1000 * full_s), 3),
            "full_passes": sum(r["mode"] == "full" for r in rows),
            "max_abs_difference": worst,
            "saturated_share": saturated_share(fast(seg, labels=ids, noise=noise)), "dabs": rows}


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
              "synthesis": {}, "incremental": {}, "training": None}
    configs = bench_configs(settings.ngf)
    for name, config in configs.items():
        report["synthesis"][name] = bench_synthesis(config, dev, settings, progress,
                                                    f"synthesis ({name})")
    if settings.dabs and dev.type == "cpu":  # the incremental path is the CPU's
        for name, config in configs.items():
            report["incremental"][name] = bench_incremental(config, dev, settings, progress,
                                                            f"incremental ({name})")
    if training:
        report["peaks"] = bench_peaks(dev, quick, small=settings.size < 128)
        report["training"] = bench_training(dev, settings, progress, report["peaks"])
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
    for name, row in report.get("incremental", {}).items():
        lines.append(f"incremental ({name}, {row['dab_pixels']} px dabs): full pass {row['full_ms']:.1f} ms, "
                     f"after a dab {row['incremental_ms_median']:.1f} ms median ({row['incremental_ms_min']:.1f}-"
                     f"{row['incremental_ms_max']:.1f}), ratio {row['ratio_median']:.2f}, "
                     f"max difference {row['max_abs_difference']:.1e}")
    for preset, row in (report.get("training") or {}).items():
        for path in TRAINING_PATHS:
            t = row[path]
            peak = (f", {t['achieved_gflop_s']:.0f} GFLOP/s = {t['percent_of_peak']:.0f} % of the "
                    f"{t['dtype']} peak {t['peak_gflop_s']:.0f}" if "percent_of_peak" in t else "")
            lines.append(f"training ({preset}, batch {row['batch']}, {row['size']}px) {path:<9}: "
                         f"{t['img_s']:.2f} img/s, {t['gflop_per_iteration']:.1f} GFLOP/iteration{peak}")
        lines.append(f"training ({preset}) ratio {row['ratio']:.2f}")
    return "\n".join(lines)
