import pytest
import torch

from engine.errors import ModelFileError
from engine.labels import one_hot
from engine.nets import GeneratorConfig, SPADEGenerator
from engine.nets.discriminator import MultiscaleDiscriminator, PooledCritic
from engine.nets.encoder import StyleEncoder
from nets_util import blocky_labels, randomized_generator
from spade_reference import generator_forward


def test_state_dict_names_follow_nvlabs():
    keys = set(SPADEGenerator(GeneratorConfig(ngf=4)).state_dict())
    for name in ["fc.weight", "head_0.conv_0.weight_orig", "head_0.conv_0.weight_u",
                 "head_0.norm_0.mlp_shared.0.weight", "head_0.norm_0.param_free_norm.running_mean",
                 "up_0.conv_s.weight_orig", "up_0.norm_s.mlp_gamma.bias", "conv_img.weight"]:
        assert name in keys
    assert "up_0.conv_s.bias" not in keys and not any(k.startswith("up_4") for k in keys)
    most = set(SPADEGenerator(GeneratorConfig(ngf=4, upsampling="most")).state_dict())
    assert "up_4.conv_0.weight_orig" in most
    inst = set(SPADEGenerator(GeneratorConfig(ngf=4, norm="instance", spectral=False)).state_dict())
    assert "head_0.conv_0.weight" in inst and not any("running_mean" in k for k in inst)


@pytest.mark.parametrize("upsampling,size", [("normal", 64), ("more", 128), ("most", 256)])
@pytest.mark.parametrize("norm", ["syncbatch", "instance"])
def test_generator_matches_functional_reference(upsampling, size, norm):
    config = GeneratorConfig(ngf=4, upsampling=upsampling, norm=norm, output_nc=3, image_size=size)
    g = randomized_generator(config, size=size)
    seg = one_hot(blocky_labels(size))
    with torch.no_grad():
        out = g(seg)
        ref = generator_forward(g.state_dict(), seg, upsampling)
    assert out.shape == (1, 3, size, size)
    assert (out - ref).abs().max() < 1e-5
    assert out.std() > 1e-3  # not a constant image


def test_vae_generator_uses_z():
    config = GeneratorConfig(ngf=4, use_vae=True, z_dim=16, image_size=64)
    g = randomized_generator(config)
    seg = one_hot(blocky_labels(64))
    with torch.no_grad():
        a = g(seg, torch.zeros(1, 16))
        b = g(seg, torch.ones(1, 16))
        ref = generator_forward(g.state_dict(), seg, "normal", torch.ones(1, 16))
    assert (a - b).abs().max() > 1e-4
    assert (b - ref).abs().max() < 1e-5
    assert g.check_input_size(128, 128) is not None and g.check_input_size(64, 64) is None


def test_clade_generator_runs_and_has_no_convolutional_mlp():
    g = SPADEGenerator(GeneratorConfig(ngf=4, modulation="clade", image_size=64))
    keys = set(g.state_dict())
    assert "head_0.norm_0.class_gamma" in keys and not any("mlp_shared" in k for k in keys)
    out = g.eval()(one_hot(blocky_labels(64)))
    assert out.shape == (1, 1, 64, 64)


def test_input_size_checks():
    g = SPADEGenerator(GeneratorConfig(ngf=4, image_size=64))
    assert "multiples of 32" in g.check_input_size(100, 100)
    assert g.check_input_size(96, 64) is None
    with pytest.raises(AssertionError):
        g(torch.zeros(1, 3, 64, 64))  # wrong channel count


def test_invalid_config_is_one_clear_error():
    with pytest.raises(ModelFileError, match="upsampling must be one of"):
        GeneratorConfig(upsampling="lots")
    with pytest.raises(ModelFileError, match="unknown architecture fields: colour"):
        GeneratorConfig.from_dict({"colour": "red"})


def test_encoder_and_discriminator_shapes():
    enc = StyleEncoder(ngf=4, input_nc=1, image_size=64, z_dim=16)
    mu, logvar = enc(torch.randn(2, 1, 64, 64))
    assert mu.shape == logvar.shape == (2, 16)
    assert "layer1.0.weight_orig" in enc.state_dict() and "layer6.0.weight_orig" not in enc.state_dict()
    d = MultiscaleDiscriminator(input_nc=5, ndf=4, n_layers=4, num_d=2)
    outputs = d(torch.randn(2, 5, 64, 64))
    assert len(outputs) == 2 and all(len(o) == 5 for o in outputs)
    assert outputs[0][-1].shape[1] == 1 and outputs[1][0].shape[-1] < outputs[0][0].shape[-1]
    assert "discriminator_1.model1.0.0.weight_orig" in d.state_dict()
    assert not any(k.startswith("pooled.") for k in d.state_dict())  # older runs' names


def test_the_pooled_critic_judges_the_image_alone_as_one_more_scale():
    torch.manual_seed(0)
    d = MultiscaleDiscriminator(input_nc=5, ndf=4, n_layers=3, num_d=2, pooled=8, image_nc=1).eval()
    x = torch.randn(2, 5, 64, 64)  # (eval: spectral norm's power iteration holds still)
    outputs = d(x)
    assert len(outputs) == 3 and len(outputs[0]) == 4 and len(outputs[2]) == 1
    assert outputs[2][0].shape == (2, 1, 1, 1)
    relabelled = x.clone()
    relabelled[:, :4] = torch.randn(2, 4, 64, 64)
    assert torch.equal(d(relabelled)[2][0], outputs[2][0])  # the labels do not reach it
    assert not torch.allclose(d(x * 0.5)[2][0], outputs[2][0])  # the image does
    assert not torch.allclose(d(relabelled)[0][-1], outputs[0][-1])  # the PatchGANs see the labels



def test_the_pooled_critic_judges_fakes_in_one_batch_with_reals():
    """Batch norm: fakes alone would be normalised by their own statistics. With a reference
    their logits are those of the fake half of one mixed batch, and the reals get no gradient."""
    torch.manual_seed(0)
    d = MultiscaleDiscriminator(input_nc=5, ndf=4, n_layers=3, num_d=1, pooled=8, image_nc=1)
    fake, real = torch.randn(2, 5, 64, 64), torch.randn(2, 5, 64, 64) * 2 + 1
    real.requires_grad_(True)
    judged = d(fake, reference=real)[-1][0]
    mixed = d(torch.cat([fake, real.detach()]))[-1][0][:2]
    alone = d(fake)[-1][0]
    assert judged.shape == (2, 1, 1, 1)
    assert torch.allclose(judged, mixed, atol=1e-5) and not torch.allclose(judged, alone, atol=1e-3)
    judged.sum().backward()
    assert real.grad is None
    assert len(d(fake, reference=False)) == 1  # left out: the PatchGAN alone

def test_the_pooled_critic_learns_a_texture_that_is_off_the_same_way_everywhere():
    """White noise against noise of the same grey level and spread whose neighbours are
    correlated (grain two pixels wide): a statistic that only shows averaged over the image."""
    torch.manual_seed(0)

    def textures(n, wide):
        noise = torch.randn(n, 1, 32, 33)
        if wide:  # neighbours share half their noise; the spread stays 1
            return (noise[..., 1:] + noise[..., :-1]) / 2 ** 0.5
        return noise[..., 1:]

    critic = PooledCritic(1, width=8, depth=3)
    optimizer = torch.optim.Adam(critic.parameters(), lr=5e-3)
    for _ in range(200):
        logits = critic(torch.cat([textures(8, False), textures(8, True)]))[0].flatten()
        target = torch.cat([torch.zeros(8), torch.ones(8)])
        loss = torch.nn.functional.binary_cross_entropy_with_logits(logits, target)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    critic.eval()  # judged by the statistics it learned on mixed batches, not each batch's own
    with torch.no_grad():
        white, wide = critic(textures(32, False))[0].flatten(), critic(textures(32, True))[0].flatten()
    assert (wide[:, None] > white[None, :]).float().mean() > 0.95  # new samples told apart (AUC)
