"""The fast training step computes what the plain one does (float rounding aside).

Channels-last generator, the cast-once conditioning input, fused Adam, the shared batch norm
of a block's shortcut, and the optional one discriminator pass per iteration
(Trainer.joint_step) against NCHW and two passes, in float32 so that the comparison is tight.
"""

import dataclasses

import pytest
import torch

from engine.training.config import resolve_config
from engine.training.trainer import Trainer, power_iterations_done


pytestmark = pytest.mark.usefixtures("one_thread")  # conftest


def tiny(**overrides):
    values = dict(ngf=4, ndf=8, image_size=64, batch_size=2, n_layers_d=3, device="cpu", amp="off", seed=0)
    values.update(overrides)
    return resolve_config("lite", **values)  # fan, bilinear, texture, noise, spectral loss


def batch(size=64):
    generator = torch.Generator().manual_seed(1)
    ids = torch.randint(0, 4, (2, size // 8, size // 8), generator=generator)
    ids = ids.repeat_interleave(8, 1).repeat_interleave(8, 2)
    fan = torch.ones(2, 1, size, size)
    fan[:, :, : size // 5] = 0.0
    return {"label": torch.nn.functional.one_hot(ids, 4).permute(0, 3, 1, 2).float(),
            "image": torch.rand(2, 1, size, size, generator=generator) * 2 - 1, "fan": fan}


def one_step(config, converge_sigma=False):
    """Losses, gradients and spectral-norm vectors after one iteration (learning rate 0)."""
    torch.manual_seed(0)
    trainer = Trainer(config, torch.device("cpu"))
    if converge_sigma:  # the power iteration at its fixed point: every pass sees one sigma
        with power_iterations_done(trainer.disc, 200):
            pass
    trainer.set_lr_factor(0.0)
    seg, real, fan = trainer.inputs(batch(config.image_size))
    torch.manual_seed(5)
    losses = {k: v.item() for k, v in trainer.step(seg, real, fan=fan).items()}
    grads = {"G": torch.cat([p.grad.flatten() for p in trainer.stack.parameters()]),
             "D": torch.cat([p.grad.flatten() for p in trainer.disc.parameters()])}
    vectors = {k: v for k, v in trainer.disc.state_dict().items() if k.endswith(("weight_u", "weight_v"))}
    return trainer, losses, grads, vectors


def close(a, b, rel):
    return (a - b).norm() <= rel * b.norm()


def test_channels_last_generator_computes_the_nchw_step():
    plain, losses_a, grads_a, _ = one_step(tiny(channels_last=False))
    fast, losses_b, grads_b, _ = one_step(tiny())
    assert plain.g_memory_format == torch.contiguous_format
    assert fast.g_memory_format == torch.channels_last
    assert fast.stack.generator.up_0.conv_0.weight_orig.is_contiguous(memory_format=torch.channels_last)
    assert losses_a.keys() == losses_b.keys()
    for name in losses_a:
        assert losses_b[name] == pytest.approx(losses_a[name], rel=1e-5, abs=1e-6), name
    for net in ("G", "D"):
        assert close(grads_b[net], grads_a[net], 1e-4), net


def test_one_discriminator_pass_computes_the_two_pass_step():
    extra = dict(channels_last=False, lambda_region=5.0, region_bands=2, lambda_skew=1.0, lambda_acf=1.0, lambda_streaks=1.0, lambda_border=1.0, beam=2.0, texture=True, grain=2.0)  # every image loss
    two, losses_a, grads_a, vectors_a = one_step(tiny(**extra), converge_sigma=True)
    one, losses_b, grads_b, vectors_b = one_step(tiny(one_d_pass=True, **extra), converge_sigma=True)
    assert not two.one_d_pass and one.one_d_pass
    assert list(losses_a) == list(losses_b)
    assert losses_a["G_region"] > 0
    for name in losses_a:
        assert losses_b[name] == pytest.approx(losses_a[name], rel=1e-4, abs=1e-6), name
    for net in ("G", "D"):
        assert close(grads_b[net], grads_a[net], 1e-4), net
    for key in vectors_a:  # the same power iterations, in the same order
        assert torch.equal(vectors_a[key], vectors_b[key]), key


def test_one_pass_runs_the_power_iterations_of_two_passes_from_a_cold_start():
    """Before sigma has converged only the generator's step differs (its losses see the
    third estimate of sigma, through instance norm's epsilon); the discriminator's step and
    the spectral-norm vectors are those of the two-pass path."""
    _, losses_a, grads_a, vectors_a = one_step(tiny(channels_last=False))
    _, losses_b, grads_b, vectors_b = one_step(tiny(channels_last=False, one_d_pass=True))
    for key in vectors_a:
        assert torch.equal(vectors_a[key], vectors_b[key]), key
    for name in ("D_real", "D_fake"):
        assert losses_b[name] == pytest.approx(losses_a[name], rel=1e-5), name
    assert close(grads_b["D"], grads_a["D"], 1e-4)


def test_one_pass_only_where_it_is_exact():
    for overrides in (dict(norm_d="spectralbatch"), dict(norm_d="spectralnone"), dict(discriminator="oasis"),
                      dict(compile=True), dict(pooled_d=4)):
        trainer = Trainer(tiny(one_d_pass=True, **overrides), torch.device("cpu"))
        assert not trainer.one_d_pass, overrides
    assert Trainer(tiny(one_d_pass=True), torch.device("cpu")).one_d_pass
    assert not Trainer(tiny(), torch.device("cpu")).one_d_pass  # not the default: not exact early on


def test_optimizer_state_from_another_layout_is_stored_in_the_parameters():
    nchw = Trainer(tiny(channels_last=False), torch.device("cpu"))
    seg, real, fan = nchw.inputs(batch())
    nchw.step(seg, real, fan=fan)
    state = nchw.state_dict()
    cl = Trainer(tiny(), torch.device("cpu"))
    cl.load_state_dict(state)
    for p in cl.stack.parameters():
        for value in cl.opt_g.state[p].values():
            if isinstance(value, torch.Tensor) and value.shape == p.shape:
                assert value.stride() == p.stride()
    seg, real, fan = cl.inputs(batch())
    cl.step(seg, real, fan=fan)  # and the fused update runs


def test_bf16_fast_step_stays_near_float32():
    _, losses_a, _, _ = one_step(tiny(channels_last=False), converge_sigma=True)
    _, losses_b, _, _ = one_step(dataclasses.replace(tiny(), amp="bf16"), converge_sigma=True)
    for name in losses_a:
        assert losses_b[name] == pytest.approx(losses_a[name], rel=0.05, abs=0.02), name


@pytest.mark.parametrize("modulation", ["clade", "spade"])
def test_a_shared_batch_norm_is_the_two_it_stands_for(modulation, monkeypatch):
    """The shortcut's and the first norm's batch statistics, computed once (blocks.shared_batch_norm)."""
    from engine.nets import blocks

    def run(shared: bool):
        torch.manual_seed(0)
        block = blocks.SPADEResBlock(8, 4, 5, "batch", modulation, hidden=16, noise_nc=2).train()
        with torch.no_grad():
            for p in block.parameters():
                p.normal_(0, 0.5)
        x = torch.randn(3, 8, 16, 16, requires_grad=True)
        seg = torch.cat([torch.nn.functional.one_hot(torch.randint(0, 5, (3, 16, 16)), 5).permute(0, 3, 1, 2).float(),
                         torch.randn(3, 2, 16, 16)], 1)
        if not shared:
            monkeypatch.setattr(blocks, "shared_batch_norm", lambda *a: None)
        out = block(x, seg)
        out.square().sum().backward()
        monkeypatch.undo()
        return out, x.grad, [p.grad for p in block.parameters()], block.state_dict()

    out_a, gx_a, grads_a, state_a = run(False)
    out_b, gx_b, grads_b, state_b = run(True)
    assert torch.allclose(out_a, out_b, atol=1e-5)
    assert torch.allclose(gx_a, gx_b, atol=1e-4, rtol=1e-4)
    for a, b in zip(grads_a, grads_b):
        assert torch.allclose(a, b, atol=1e-4, rtol=1e-4)
    for key in state_a:
        assert torch.allclose(state_a[key].float(), state_b[key].float(), atol=1e-6), key
