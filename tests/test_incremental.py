"""Incremental synthesis gives the full pass's image after every edit (engine.fast.incremental)."""

import numpy as np
import pytest
import torch

from engine.fast import optimize_for_inference
from engine.fast.incremental import IncrementalGenerator, bounding_box, doubled, upsampled_crop
from engine.labels import one_hot
from engine.nets import GeneratorConfig
from engine.nets.noise import seeded_noise
from nets_util import apical_labels, randomized_generator

TOLERANCE = 1e-4
SIZE = 96  # a 3 x 3 latent grid: every level's geometry, at a test's cost

CONFIGS = {
    # the lite preset's kind: CLADE, noise input, fan class, bilinear upsampling, texture path,
    # speckle drawn along the arcs
    "lite-like": GeneratorConfig(ngf=4, modulation="clade", noise_nc=6, fan=True, upsample="bilinear",
                                 texture=True, beam=2.0, grain=3.0, tone=0.8, image_size=SIZE),
    # the seed's: SPADE (boundary-sparse maps), nearest upsampling, no noise
    "seed-like": GeneratorConfig(ngf=4, hidden=16, image_size=SIZE),
    # SPADE with a noise input (dense maps)
    "spade-noise": GeneratorConfig(ngf=4, hidden=16, noise_nc=4, image_size=SIZE),
}


pytestmark = pytest.mark.usefixtures("one_thread")  # conftest


def strokes(labels: np.ndarray, rng: np.random.Generator, count: int, classes: int):
    """Successive edits: round dabs and short lines, a few touching the picture's border."""
    yy, xx = np.mgrid[:SIZE, :SIZE]
    current = labels.copy()
    for i in range(count):
        current = current.copy()
        value = int(rng.integers(0, classes))
        if i % 4 == 3:  # at the border
            cy, cx = [(0, int(rng.integers(0, SIZE))), (SIZE - 1, int(rng.integers(0, SIZE))),
                      (int(rng.integers(0, SIZE)), 0), (int(rng.integers(0, SIZE)), SIZE - 1)][i // 4 % 4]
        else:
            cy, cx = (int(v) for v in rng.integers(0, SIZE, 2))
        radius = float(rng.uniform(1.5, 8))
        if i % 3 == 2:  # a line of dabs
            for t in np.linspace(0, 1, 6):
                y, x = cy + 12 * t, cx + 9 * t
                current[(yy - y) ** 2 + (xx - x) ** 2 <= radius ** 2] = value
        else:
            current[(yy - cy) ** 2 + (xx - cx) ** 2 <= radius ** 2] = value
        yield current


@pytest.mark.parametrize("name", list(CONFIGS))
def test_incremental_equals_a_full_pass_over_random_strokes(name):
    config = CONFIGS[name]
    fast = optimize_for_inference(randomized_generator(config), "cpu")
    incremental = IncrementalGenerator(fast, full_above=1.0)  # never fall back: test the crops
    labels = apical_labels(1, SIZE)[0].astype(np.int64)
    if config.fan:
        labels[: SIZE // 6] = config.label_nc  # an "outside the fan" band along the top
    noise = seeded_noise(config.noise_nc, (SIZE, SIZE), [7]) if config.noise_nc else None

    def both(current):
        ids = torch.from_numpy(current)[None]
        seg = one_hot(ids, config.classes)
        return incremental(seg, ids, noise), fast(seg, labels=ids, noise=noise)

    both(labels)
    assert incremental.last["mode"] == "full"  # cold cache
    worst, modes = 0.0, []
    for current in strokes(labels, np.random.default_rng(3), 10, config.classes):
        a, b = both(current)
        worst = max(worst, (a - b).abs().max().item())
        modes.append((incremental.last["mode"], incremental.last["fraction"]))
    assert worst <= TOLERANCE, worst
    partial = [f for mode, f in modes if mode == "incremental"]
    assert partial and min(partial) < 0.5, modes  # some edits recomputed well under half


def test_unchanged_maps_cost_nothing_and_other_noise_starts_over():
    config = CONFIGS["lite-like"]
    fast = optimize_for_inference(randomized_generator(config), "cpu")
    incremental = IncrementalGenerator(fast)
    ids = torch.from_numpy(apical_labels(1, SIZE).astype(np.int64))
    seg = one_hot(ids, config.classes)
    noise = seeded_noise(config.noise_nc, (SIZE, SIZE), [1])
    first = incremental(seg, ids, noise)
    first.numpy()[:] = 0.0  # the caller owns what it gets (as an array too): not the cache
    again = incremental(seg, ids, noise)
    assert incremental.last["mode"] == "unchanged"
    assert torch.equal(again, fast(seg, labels=ids, noise=noise))
    other = seeded_noise(config.noise_nc, (SIZE, SIZE), [2])
    assert torch.equal(incremental(seg, ids, other), fast(seg, labels=ids, noise=other))
    assert incremental.last["mode"] == "full"
    changed = ids.clone()
    changed[:, :, :] = 1  # a whole new map: over full_above, a full pass
    incremental(one_hot(changed, config.classes), changed, other)
    assert incremental.last["mode"] == "full"


def test_a_cache_per_noise_map_keeps_an_edit_incremental_after_other_seeds():
    """The studio draws each edit with its seed, then with every variation's: the main seed's
    cache survives them, so the next edit recomputes only what it reaches."""
    config = CONFIGS["lite-like"]
    fast = optimize_for_inference(randomized_generator(config), "cpu")
    ids = torch.from_numpy(apical_labels(1, SIZE).astype(np.int64))
    edited = ids.clone()
    edited[:, 60:64, 60:64] = 2
    noises = [seeded_noise(config.noise_nc, (SIZE, SIZE), [seed]) for seed in range(7)]

    def paint(incremental) -> str:
        for noise in noises:  # the main image, then six variations
            incremental(one_hot(ids, config.classes), ids, noise)
        out = incremental(one_hot(edited, config.classes), edited, noises[0])  # the next edit
        assert torch.allclose(out, fast(one_hot(edited, config.classes), labels=edited, noise=noises[0]),
                              atol=TOLERANCE)
        return incremental.last["mode"]

    kept = IncrementalGenerator(fast, full_above=1.0)
    assert paint(kept) == "incremental" and len(kept.caches) == 7
    assert paint(IncrementalGenerator(fast, full_above=1.0, keep=1)) == "full"  # one cache: evicted
    size = kept.cache.bytes()
    tight = IncrementalGenerator(fast, full_above=1.0, budget_bytes=3 * size)
    paint(tight)
    assert len(tight.caches) == 3  # the budget holds the newest three


def test_global_models_and_batches_always_take_the_full_pass():
    for config in (GeneratorConfig(ngf=8, norm="instance", image_size=64),
                   GeneratorConfig(ngf=8, use_vae=True, z_dim=8, image_size=64)):
        assert not IncrementalGenerator(optimize_for_inference(randomized_generator(config), "cpu")).supported
    config = GeneratorConfig(ngf=8, image_size=64)
    fast = optimize_for_inference(randomized_generator(config), "cpu")
    incremental = IncrementalGenerator(fast)
    ids = torch.from_numpy(apical_labels(2, 64).astype(np.int64))
    seg = one_hot(ids, config.classes)
    assert torch.allclose(incremental(seg, ids), fast(seg, labels=ids), atol=TOLERANCE)
    assert incremental.last["mode"] == "full" and incremental.cache is None


@pytest.mark.parametrize("mode", ["nearest", "bilinear"])
def test_upsampled_crops_and_their_reach(mode):
    x = torch.randn(1, 3, 9, 11)
    full = torch.nn.functional.interpolate(x, scale_factor=2.0, mode=mode,
                                           **({"align_corners": False} if mode == "bilinear" else {}))
    for box in [(0, 18, 0, 22), (3, 8, 5, 21), (0, 1, 21, 22), (17, 18, 0, 3), (7, 12, 9, 10)]:
        assert torch.allclose(upsampled_crop(x, box, mode), full[..., box[0]:box[1], box[2]:box[3]], atol=1e-6)
    # a change of input pixel (4, 5) reaches exactly the box `doubled` says
    bumped = x.clone()
    bumped[..., 4, 5] += 1
    after = torch.nn.functional.interpolate(bumped, scale_factor=2.0, mode=mode,
                                            **({"align_corners": False} if mode == "bilinear" else {}))
    assert bounding_box((after != full).any(1)[0]) == doubled((4, 5, 5, 6), mode, 18, 22)


def test_a_shared_synthesizer_runs_one_call_at_a_time():
    """Threads sharing one synthesizer (the app's image worker and its cine thread) never
    run the network at once: the incremental cache is one map's, and each gets its own image.
    The first call holds the network until another thread contends for it, either waiting
    for the synthesizer or (were it not locked) running the network beside it: no timing."""
    import threading

    from engine.models import GeneratorModel
    from engine.synthesizer import Synthesizer

    config = CONFIGS["seed-like"]
    model = GeneratorModel(config, randomized_generator(config, seed=2, size=SIZE))
    maps = list(strokes(apical_labels(1, SIZE)[0], np.random.default_rng(4), 4, config.label_nc))
    expected = [Synthesizer(model, device="cpu").synthesize(m) for m in maps]
    synth = Synthesizer(model, device="cpu", incremental=True)
    running, most, forward = [0], [0], synth._forward
    contended, held = threading.Event(), threading.Event()

    class ContendedLock:
        """The synthesizer's lock, saying when a thread has to wait for it."""

        def __init__(self, lock) -> None:
            self.lock = lock

        def __enter__(self):
            if not self.lock.acquire(blocking=False):
                contended.set()
                self.lock.acquire()
            return self

        def __exit__(self, *exc) -> None:
            self.lock.release()

    def held_forward(*args):
        running[0] += 1
        most[0] = max(most[0], running[0])
        if running[0] > 1:
            contended.set()
        try:
            if not held.is_set():  # the first call: until another thread comes in
                held.set()
                assert contended.wait(60)
            return forward(*args)
        finally:
            running[0] -= 1

    synth._busy = ContendedLock(synth._busy)
    synth._forward = held_forward
    wrong = []

    def paint(first: int) -> None:
        for i in [first, (first + 1) % 4, first]:
            if np.abs(synth.synthesize(maps[i]) - expected[i]).max() > TOLERANCE:
                wrong.append(i)

    threads = [threading.Thread(target=paint, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert most[0] == 1 and not wrong


def test_a_pass_stopped_between_blocks_forgets_the_half_updated_cache():
    """A studio variation gives way to an edit's image between blocks: the pass raises
    Cancelled, and the cache it was updating is dropped (the next call is a full pass, exact)."""
    from engine.progress import Cancelled

    config = CONFIGS["lite-like"]
    fast = optimize_for_inference(randomized_generator(config), "cpu")
    incremental = IncrementalGenerator(fast, full_above=1.0)
    ids = torch.from_numpy(apical_labels(1, SIZE).astype(np.int64))
    edited = ids.clone()
    edited[:, 40:50, 40:50] = 2
    noise = seeded_noise(config.noise_nc, (SIZE, SIZE), [3])
    incremental(one_hot(ids, config.classes), ids, noise)
    asked = []

    def stop_at_the_second_block() -> bool:
        asked.append(1)
        return len(asked) == 2

    with pytest.raises(Cancelled):
        incremental(one_hot(edited, config.classes), edited, noise, should_stop=stop_at_the_second_block)
    assert incremental.caches == []
    with pytest.raises(Cancelled):
        fast(one_hot(edited, config.classes), labels=edited, noise=noise, should_stop=lambda: True)
    out = incremental(one_hot(edited, config.classes), edited, noise, should_stop=lambda: False)
    assert incremental.last["mode"] == "full"
    assert torch.allclose(out, fast(one_hot(edited, config.classes), labels=edited, noise=noise), atol=TOLERANCE)
