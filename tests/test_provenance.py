"""A synthesized image records where it came from: model, checksum, seed, style, device, version."""

from __future__ import annotations

import numpy as np
import pytest

from engine import __version__
from engine.anatomy import template_mask
from engine.cli.main import main
from engine.fileio import sha256_file
from engine.maskio import write_label_png
from engine.provenance import (DESCRIPTION_LIMIT, SYNTHESIS_KEY, nifti_description, read_synthesis_record,
                               synthesis_record)


@pytest.fixture(scope="module")
def noise_model(tmp_path_factory):
    from cardigan_app.testing import make_model_file

    return make_model_file(tmp_path_factory.mktemp("models") / "noisy.safetensors", noise_nc=8, style_scale=0.4)


@pytest.fixture(scope="module")
def mask_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("masks") / "heart.png"
    write_label_png(path, template_mask("4CH", "ED", seed=1, size=64))
    return path


def test_cardigan_synthesize_records_the_model_its_checksum_the_seed_and_style_in_the_png(tmp_path, noise_model,
                                                                                         mask_file):
    from engine.maskio import read_png_text

    out = tmp_path / "echo.png"
    assert main(["synthesize", "--model", str(noise_model), "--mask", str(mask_file), "--out", str(out),
                 "--seed", "7", "--style-scale", "0.7", "--device", "cpu"]) == 0
    assert SYNTHESIS_KEY in read_png_text(out)
    assert read_synthesis_record(out) == {"software": f"cardiGAN {__version__}", "model": "noisy",
                                          "model_sha256": sha256_file(noise_model), "seed": 7, "style_scale": 0.7,
                                          "device": "cpu"}
    # the model's own style scale when none is asked; the simulator has no file and no style channels
    assert main(["synthesize", "--model", str(noise_model), "--mask", str(mask_file), "--out", str(out),
                 "--overwrite", "--device", "cpu"]) == 0
    assert read_synthesis_record(out)["style_scale"] == 0.4
    assert main(["synthesize", "--model", "simulator", "--mask", str(mask_file), "--out", str(out),
                 "--overwrite", "--seed", "3"]) == 0
    record = read_synthesis_record(out)
    assert (record["model"], record["model_sha256"], record["style_scale"], record["seed"]) == \
        ("simulator", None, None, 3)


def test_a_nifti_image_carries_the_record_in_short_as_its_description(tmp_path, noise_model, mask_file):
    import SimpleITK as sitk

    out = tmp_path / "echo.nii.gz"
    assert main(["synthesize", "--model", str(noise_model), "--mask", str(mask_file), "--out", str(out),
                 "--seed", "12", "--device", "cpu"]) == 0
    description = sitk.ReadImage(str(out)).GetMetaData("descrip")
    assert description == (f"cardiGAN {__version__}; noisy sha256:{sha256_file(noise_model)[:8]}; "
                           "seed 12; style 0.4; cpu")


def test_a_long_model_name_is_cut_so_the_description_fits_its_80_characters():
    record = synthesis_record("a" * 200, "f" * 64, 2**31 - 1, 0.123456, "cuda:0")
    text = nifti_description(record)
    assert len(text) == DESCRIPTION_LIMIT and text.endswith("; seed 2147483647; style 0.1235; cuda:0")
    assert text.startswith(f"cardiGAN {__version__}; aaa") and "a~ sha256:ffffffff;" in text


def test_a_png_without_a_record_reads_as_none(tmp_path):
    from engine.maskio import write_grey_png

    write_grey_png(tmp_path / "plain.png", np.zeros((4, 4), np.uint8))
    write_grey_png(tmp_path / "bad.png", np.zeros((4, 4), np.uint8), {SYNTHESIS_KEY: "not json"})
    assert read_synthesis_record(tmp_path / "plain.png") is None
    assert read_synthesis_record(tmp_path / "bad.png") is None
    assert read_synthesis_record(tmp_path / "missing.png") is None
