"""The training memory estimate: exact parameter counts, growth with batch size and width."""

from __future__ import annotations

from engine.training.config import resolve_config
from engine.training.memory import device_memory_bytes, estimate_training_memory, network_footprint
from engine.training.networks import build_networks

TINY = dict(ngf=4, ndf=8, image_size=64, n_layers_d=3)


def test_parameters_are_counted_exactly():
    config = resolve_config("lite", **TINY)
    stack, disc = build_networks(config)
    real = sum(p.numel() for p in stack.parameters()) + sum(p.numel() for p in disc.parameters())
    footprint = network_footprint(config)
    assert footprint.parameters == real
    assert footprint.generator_activations > 0 and footprint.discriminator_activations > 0


def test_estimate_grows_with_batch_size_and_width():
    config = resolve_config("lite", **TINY)
    small, large = (estimate_training_memory(config, b, "cpu") for b in (1, 8))
    assert large.activation_bytes == 8 * small.activation_bytes
    assert large.state_bytes == small.state_bytes and large.total_bytes > small.total_bytes
    wide = estimate_training_memory(resolve_config("lite", **{**TINY, "ngf": 8}), 1, "cpu")
    assert wide.parameters > small.parameters and wide.activation_bytes > small.activation_bytes
    assert wide.total_bytes > small.total_bytes


def test_half_precision_halves_activations():
    full = estimate_training_memory(resolve_config("lite", amp="off", **TINY), 4, "cpu")
    half = estimate_training_memory(resolve_config("lite", amp="bf16", **TINY), 4, "cpu")
    assert half.activation_bytes * 2 == full.activation_bytes


def test_device_memory():
    ram = device_memory_bytes("cpu")
    assert ram is None or ram > 2**28
    assert device_memory_bytes("cuda:99") is None


def test_a_segmentation_critic_is_measured_on_the_image_it_sees():
    """It was fed the labels beside the image, as the patch critic is, and refused them
    ("Invalid channel dimensions"): the estimate failed for every oasis run."""
    config = resolve_config("lite", discriminator="oasis", **TINY)
    footprint = network_footprint(config)
    _stack, disc = build_networks(config)
    assert footprint.parameters == sum(p.numel() for p in _stack.parameters()) + sum(p.numel() for p in disc.parameters())
    assert footprint.discriminator_activations > 0
    assert estimate_training_memory(config, 4, "cpu").total_bytes > estimate_training_memory(config, 1, "cpu").total_bytes
