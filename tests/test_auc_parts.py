"""The two-sample test by part: views that keep one part of each image, and a difference
planted in one part found there and not in the others."""

import numpy as np
import pytest

from engine.evaluation.auc_parts import EDGE, NEAR, PARTS, auc_by_part, coarse_view, part_regions, part_views
from engine.evaluation.realism import two_sample_auc
from engine.fan import default_fan, edge_distance

SIZE = 48


def heart_labels(count: int, rng: np.random.Generator) -> np.ndarray:
    """Label maps with a cavity, a wall around it and an atrium below, moved a little each time."""
    labels = np.zeros((count, SIZE, SIZE), np.uint8)
    ys, xs = np.mgrid[:SIZE, :SIZE]
    for i in range(count):
        cy, cx = 20 + rng.integers(-2, 3), 24 + rng.integers(-2, 3)
        r = np.hypot((ys - cy) / 1.4, xs - cx)
        labels[i][r < 9] = 2
        labels[i][r < 6] = 1
        labels[i][(np.hypot(ys - cy - 14, xs - cx) < 5) & (labels[i] == 0)] = 3
    return labels


def test_views_keep_their_part_and_flatten_the_rest_per_region():
    rng = np.random.default_rng(0)
    labels = heart_labels(3, rng)
    fans = [default_fan()] * 3
    images = rng.integers(20, 230, size=labels.shape).astype(np.uint8)
    inside, near, edge = part_regions(labels, fans)
    distance = edge_distance(fans[0], SIZE, SIZE)
    ys, xs = np.mgrid[:SIZE, :SIZE] + 0.5
    depth = fans[0].beam_coordinates(ys, xs, SIZE, SIZE)[0] / (fans[0].depth * SIZE)
    assert np.array_equal(inside[0], distance >= 0)
    assert np.array_equal(near[0], inside[0] & (depth < NEAR))
    assert np.array_equal(edge[0], inside[0] & (depth >= NEAR) & (distance < EDGE))
    rest = inside & ~near & ~edge
    assert edge[0].any() and near[0].any() and rest[0].any()
    views = part_views(images, labels, fans)
    assert set(views) == set(PARTS)
    for name, kept in (("heart", rest & (labels > 0)), ("background", rest & (labels == 0)),
                       ("fan edge", edge), ("near field", near)):
        view = views[name]
        assert kept.any() and np.array_equal(view[kept], images[kept])  # its part as it is
        assert (view[~inside] == 0).all()  # black outside the fan
        for i in range(3):
            for zone in [near[i], edge[i]] + [rest[i] & (labels[i] == v) for v in range(4)]:
                flat = zone & ~kept[i]
                if flat.any():  # one grey level per zone: its mean in that image
                    assert np.unique(view[i][flat]).size == 1
                    assert abs(int(view[i][flat][0]) - images[i][zone].mean()) <= 0.5
    block = coarse_view(images)
    assert block.shape == images.shape
    assert np.unique(block[0, :4, :4]).size == 1 and abs(int(block[0, 0, 0]) - images[0, :4, :4].mean()) <= 0.5


def test_a_difference_in_the_background_alone_is_found_in_the_background_view():
    rng = np.random.default_rng(1)
    count = 64
    labels = heart_labels(count, rng)
    fans = [default_fan()] * count
    groups = [f"patient{i // 2:03d}" for i in range(count)]  # two images per patient

    def draw(background_texture: bool) -> np.ndarray:
        image = rng.normal(100, 25, size=labels.shape)
        image[labels == 1] = rng.normal(50, 15, size=(labels == 1).sum())
        image[labels == 2] = rng.normal(140, 25, size=(labels == 2).sum())
        if background_texture:  # vertical stripes two pixels apart, in the background only
            stripes = np.where((np.arange(SIZE) // 2) % 2 == 0, 35.0, -35.0)[None, None, :]
            image = np.where(labels == 0, image + stripes, image)
        return np.clip(image, 0, 255).astype(np.uint8)

    real, synthetic = draw(False), draw(True)

    def auc(first, second, first_groups, second_groups, stage):
        return two_sample_auc(first, second, first_groups, second_groups, iters=100, seed=0)

    parts = auc_by_part(real, labels, synthetic, labels, fans, groups, auc)
    assert set(parts) == set(PARTS)
    assert parts["background"] > 0.9
    assert parts["heart"] < 0.75 and parts["background"] - parts["heart"] > 0.2
