"""Precision choice of the Synthesizer and the CUDA-graph path (CUDA tests skip without a GPU)."""

import numpy as np
import pytest
import torch

from engine.fast import optimize_for_inference
from engine.labels import one_hot
from engine.models import GeneratorModel
from engine.nets import GeneratorConfig
from engine.synthesizer import Synthesizer
from nets_util import apical_labels as apical, randomized_generator

cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")


def model_of(config: GeneratorConfig, size: int) -> GeneratorModel:
    return GeneratorModel(config, randomized_generator(config, seed=4, size=size), name="test")


def test_precision_defaults_and_choices():
    model = model_of(GeneratorConfig(ngf=4, image_size=64), 64)
    assert Synthesizer(model, device="cpu").precision == "fp32"
    labels = apical(1, 64)[0]
    fp32 = Synthesizer(model, device="cpu").synthesize(labels)
    bf16 = Synthesizer(model, device="cpu", precision="bf16").synthesize(labels)
    assert bf16.dtype == np.float32 and bf16.shape == fp32.shape
    assert 0 < np.abs(bf16 - fp32).mean() < 0.02  # rounded, but close
    with pytest.raises(ValueError, match="precision"):
        Synthesizer(model, device="cpu", precision="fp8")
    with pytest.raises(ValueError, match="fp32 only"):
        Synthesizer(model, device="cpu", fast=False, precision="bf16")


def test_plain_network_on_cuda_defaults_to_float32(monkeypatch):
    """``auto`` precision means bfloat16 only for the fast network: the plain (reference)
    network on CUDA is float32, not a refusal. (No GPU needed: the device is pretended.)"""
    import engine.synthesizer as synthesizer

    model = model_of(GeneratorConfig(ngf=4, image_size=64), 64)
    monkeypatch.setattr(synthesizer, "resolve_device", lambda spec: torch.device("cuda", 0))
    monkeypatch.setattr(model.generator, "to", lambda device: model.generator)  # stays on the CPU
    assert Synthesizer(model, device="cuda", fast=False).precision == "fp32"
    assert synthesizer.chosen_precision("auto", torch.device("cuda", 0), fast=True) == "bf16"
    assert synthesizer.chosen_precision("auto", torch.device("cpu"), fast=True) == "fp32"


@pytest.mark.cuda
@cuda
@pytest.mark.parametrize("config", [GeneratorConfig(ngf=16), GeneratorConfig(ngf=8, modulation="clade"),
                                    GeneratorConfig(ngf=8, use_vae=True, z_dim=16, norm="instance")],
                         ids=["spade", "clade", "vae"])
def test_graphed_float32_equals_plain_on_cuda(config, exact_cuda):
    from engine.fast.graphs import GraphedGenerator

    g = randomized_generator(config, seed=3, size=256).cuda()
    labels = torch.from_numpy(apical(2, 256)).cuda()
    z = torch.randn(2, config.z_dim, device="cuda") if config.use_vae else None
    with torch.no_grad():
        plain = g(one_hot(labels), z)
    graphed = GraphedGenerator(optimize_for_inference(g, "cuda", mode="dense"))
    for _ in range(3):  # capture, then replays with fresh inputs each time
        out = graphed(labels, z)
        assert (out - plain).abs().max() < 1e-3
    other = torch.from_numpy(apical(4, 256)[2:]).cuda()
    with torch.no_grad():
        expected = g(one_hot(other), z)
    assert (graphed(other, z) - expected).abs().max() < 1e-3
    assert len(graphed.calls) == 1


@pytest.mark.cuda
@cuda
def test_synthesizer_on_cuda_uses_bf16_graphs_and_stays_close(exact_cuda):
    from engine.fast.graphs import GraphedGenerator

    model = model_of(GeneratorConfig(ngf=16), 256)
    labels = apical(3, 256)
    synth = Synthesizer(model, device="cuda")
    assert synth.precision == "bf16" and isinstance(synth.network, GraphedGenerator)
    reference = Synthesizer(model, device="cpu").synthesize(labels)
    out = synth.synthesize(labels)
    diff = np.abs(out - reference)
    assert diff.mean() < 0.02 and diff.max() < 0.25, (diff.mean(), diff.max())
    exact = Synthesizer(model, device="cuda", precision="fp32").synthesize(labels)
    assert np.abs(exact - reference).max() < 1e-3
