"""Realism without downloaded weights: grey levels per class, a classifier two-sample test,
and diversity across seeds.

- Grey levels: for each region (background inside the fan, LV cavity, myocardium,
  left atrium) the mean grey level of real and synthetic images made from the same masks,
  and the Wasserstein-1 distance between the two grey-level distributions (in grey levels).
- Two-sample test (Lopez-Paz and Oquab, ICLR 2017): a small CNN learns "real or synthetic"
  on the images of half of the patients and is scored (ROC AUC) on the other half. 0.5 means
  it cannot tell them apart, 1.0 that it always can.
- Diversity: the per-pixel standard deviation across seeds for one mask, averaged over the
  fan, in grey levels (0 for a deterministic model).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from PIL import Image, ImageFilter

from ..progress import Cancelled, Progress, ProgressCallback, StepReports, StopCheck, never_stop, no_progress

REGIONS = (("background", 0), ("lv", 1), ("myo", 2), ("la", 3))
SECTOR_THRESHOLD = 6  # grey level above which a blurred pixel counts as inside the scan


def sector_mask(image: np.ndarray, labels: np.ndarray | None = None) -> np.ndarray:
    """Where the ultrasound scan is in a (H, W) uint8 image: per row, the span between the
    first and the last pixel brighter than a small threshold after a blur (dark blood pools
    inside the fan stay inside), plus any labelled pixel."""
    blurred = np.asarray(Image.fromarray(np.asarray(image, np.uint8)).filter(ImageFilter.BoxBlur(2)))
    bright = blurred > SECTOR_THRESHOLD
    cols = np.arange(bright.shape[1])
    any_bright = bright.any(axis=1)
    first = np.where(any_bright, bright.argmax(axis=1), bright.shape[1])
    last = np.where(any_bright, bright.shape[1] - 1 - bright[:, ::-1].argmax(axis=1), -1)
    mask = (cols[None, :] >= first[:, None]) & (cols[None, :] <= last[:, None])
    if labels is not None:
        mask |= labels > 0
    return mask


def wasserstein1(a: np.ndarray, b: np.ndarray, levels: int = 256) -> float:
    """Wasserstein-1 distance between two samples of integer grey levels (in grey levels):
    the area between their cumulative histograms."""
    if a.size == 0 or b.size == 0:
        return float("nan")
    ca = np.cumsum(np.bincount(a.ravel().astype(np.int64), minlength=levels)[:levels]) / a.size
    cb = np.cumsum(np.bincount(b.ravel().astype(np.int64), minlength=levels)[:levels]) / b.size
    return float(np.abs(ca - cb).sum())


def grey_levels(real: np.ndarray, synthetic: np.ndarray, labels: np.ndarray,
                sectors: np.ndarray) -> dict:
    """Per region: mean grey level of real and synthetic images and the W1 distance.

    All arrays are (N, H, W); ``synthetic[i]`` was made from ``labels[i]``, the mask of
    ``real[i]``; ``sectors`` marks where each image is measured (evaluate: its fan).
    """
    assert real.shape == synthetic.shape == labels.shape == sectors.shape
    out = {}
    for name, label in REGIONS:
        region = labels == label
        if label == 0:
            region &= sectors
        r, s = real[region], synthetic[region]
        out[name] = {
            "real_mean": float(r.mean()) if r.size else float("nan"),
            "synthetic_mean": float(s.mean()) if s.size else float("nan"),
            "w1": wasserstein1(r, s),
        }
    return out


def roc_auc(scores: np.ndarray, targets: np.ndarray) -> float:
    """Area under the ROC curve (Mann-Whitney U with average ranks for ties)."""
    scores, targets = np.asarray(scores, np.float64), np.asarray(targets).astype(bool)
    pos, neg = int(targets.sum()), int((~targets).sum())
    if pos == 0 or neg == 0:
        return float("nan")
    order = np.argsort(scores, kind="mergesort")
    ranks = np.empty(len(scores), np.float64)
    sorted_scores = scores[order]
    i = 0
    while i < len(scores):  # average ranks over ties
        j = i
        while j + 1 < len(scores) and sorted_scores[j + 1] == sorted_scores[i]:
            j += 1
        ranks[order[i:j + 1]] = (i + j) / 2.0 + 1.0
        i = j + 1
    return float((ranks[targets].sum() - pos * (pos + 1) / 2.0) / (pos * neg))


class RealOrSynthetic(nn.Module):
    """A small strided CNN: (N, 1, H, W) image in [-1, 1] -> one logit (synthetic)."""

    def __init__(self, width: int = 16, depth: int = 4) -> None:
        super().__init__()
        layers, cin = [], 1
        for i in range(depth):
            cout = width * 2 ** i
            layers += [nn.Conv2d(cin, cout, 3, stride=2, padding=1), nn.BatchNorm2d(cout),
                       nn.LeakyReLU(0.2)]
            cin = cout
        self.features = nn.Sequential(*layers)
        self.head = nn.Linear(cin, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x).mean(dim=(2, 3)))[:, 0]


@dataclass(frozen=True)
class TwoSampleResult:
    """The two-sample test's verdict and where it came from.

    ``evidence`` is the classifier's logit taken apart by place: the network averages its last
    feature map over the image, so each cell of that map (``cell`` pixels square at the test's
    size) adds its own share to the logit. Per cell, the mean share over the held-out synthetic
    images minus that over the held-out real ones; the cells add up to the mean logit gap
    between the two sets, and a cell near 0 gave the classifier nothing to go on.
    """

    auc: float
    evidence: np.ndarray  # (h, w) float, logit units
    cell: int


def held_out_rows(first_groups: Sequence[str], second_groups: Sequence[str], seed: int) -> np.ndarray:
    """(N + M,) bool: which rows of two sets (``first``'s, then ``second``'s) a two-sample test
    scores on: those of half of the groups (patients), drawn by a shuffle seeded with ``seed``;
    it trains on the rest.

    The half is taken within each kind of group: those in both sets, those in ``first`` only
    and those in ``second`` only. Two sets of different patients (real against real) thus
    keep half of each set's patients on each side, however few there are, where one draw over
    all of them could hold out one set whole (no AUC) or most of it."""
    groups = sorted(set(first_groups) | set(second_groups))
    order = np.random.default_rng(seed).permutation(len(groups))
    in_first, in_second = set(first_groups), set(second_groups)
    shuffled = [groups[i] for i in order]
    held_out: set[str] = set()
    for kind in ((True, True), (True, False), (False, True)):
        members = [g for g in shuffled if ((g in in_first), (g in in_second)) == kind]
        held_out.update(members[: len(members) // 2])
    return np.array([g in held_out for g in list(first_groups) + list(second_groups)])


def two_sample_auc(first: np.ndarray, second: np.ndarray, first_groups: Sequence[str],
                   second_groups: Sequence[str], iters: int = 300, batch_size: int = 32,
                   seed: int = 0, progress: ProgressCallback = no_progress,
                   should_stop: StopCheck = never_stop, stage: str = "two-sample test") -> float:
    """ROC AUC of a classifier telling ``second`` from ``first`` on held-out groups
    (:func:`two_sample_test`'s AUC)."""
    return two_sample_test(first, second, first_groups, second_groups, iters, batch_size, seed,
                           progress, should_stop, stage).auc


def two_sample_test(first: np.ndarray, second: np.ndarray, first_groups: Sequence[str],
                    second_groups: Sequence[str], iters: int = 300, batch_size: int = 32,
                    seed: int = 0, progress: ProgressCallback = no_progress,
                    should_stop: StopCheck = never_stop, stage: str = "two-sample test") -> TwoSampleResult:
    """A classifier learns to tell ``second`` from ``first``; its ROC AUC on held-out groups,
    and where in the image its evidence lies (:class:`TwoSampleResult`).

    ``first`` and ``second`` are (N, H, W) uint8 images; the groups (patients) are split in
    two halves by a seeded shuffle: the classifier trains on the images of one half and is
    scored on the other, so it cannot win by recognising a patient. Without two classes on
    both sides of the split the AUC is NaN and the evidence empty.
    """
    x = np.concatenate([first, second])
    y = np.concatenate([np.zeros(len(first)), np.ones(len(second))]).astype(np.float32)
    test = held_out_rows(first_groups, second_groups, seed)
    if test.all() or not test.any() or len(set(y[~test])) < 2 or len(set(y[test])) < 2:
        return TwoSampleResult(float("nan"), np.zeros((0, 0)), 0)
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    model = RealOrSynthetic()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    x_train = torch.from_numpy(x[~test]).float().div(127.5).sub(1)[:, None]
    y_train = torch.from_numpy(y[~test])
    model.train()
    reports = StepReports(iters, every=25)
    for step in range(iters):
        if should_stop():
            raise Cancelled()
        idx = torch.randint(0, len(x_train), (min(batch_size, len(x_train)),), generator=gen)
        batch = x_train[idx]
        if torch.rand((), generator=gen) < 0.5:  # left-right flips: more data for a small net
            batch = batch.flip(-1)
        loss = F.binary_cross_entropy_with_logits(model(batch), y_train[idx])
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        if reports.due(step + 1):
            progress(Progress(stage, step + 1, iters))
    model.eval()
    scores, shares = [], []
    with torch.inference_mode():
        x_test = torch.from_numpy(x[test]).float().div(127.5).sub(1)[:, None]
        for i in range(0, len(x_test), 64):
            features = model.features(x_test[i:i + 64])
            share = torch.einsum("nchw,c->nhw", features, model.head.weight[0]) / features[0, 0].numel()
            scores.append(share.sum(dim=(1, 2)) + model.head.bias[0])
            shares.append(share)
    scores_np = torch.cat(scores).numpy()
    shares_np = torch.cat(shares).numpy().astype(np.float64)
    y_test = y[test]
    evidence = shares_np[y_test == 1].mean(axis=0) - shares_np[y_test == 0].mean(axis=0)
    return TwoSampleResult(roc_auc(scores_np, y_test), evidence, x.shape[1] // evidence.shape[0])


def diversity(images_per_seed: np.ndarray, sectors: np.ndarray) -> float:
    """Mean per-pixel standard deviation across seeds inside the sector, in grey levels.

    ``images_per_seed`` is (K, N, H, W) uint8: K seeds for each of N masks; ``sectors``
    (N, H, W) marks where to measure.
    """
    assert images_per_seed.ndim == 4 and images_per_seed.shape[1:] == sectors.shape
    std = images_per_seed.astype(np.float32).std(axis=0)
    return float(std[sectors].mean()) if sectors.any() else float("nan")
