"""Training an AdaIN decoder from folders: exact resume, Ctrl-C, TensorBoard, the exported decoder, the CLI."""

import json

import numpy as np
import pytest
from PIL import Image

from tfstyle.adain.training import DECODER_CONFIG, DECODER_FILE, train_adain
from tfstyle.augment import Jitter
from tfstyle.cli.main import main
from tfstyle.errors import OptionError, WeightsError
from tfstyle.logging import read_images, read_scalars

TINY = dict(backbone="vgg16", weights=None, encoder_layer="block2_conv1", decoder_width=0.125, batch_size=2,
            crop_size=32, resize_to=40, checkpoint_every=0, log_every=1, images_every=2, progress=False)


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    root = tmp_path_factory.mktemp("adain_data")
    rng = np.random.default_rng(0)
    for name in ("content", "style"):
        (root / name).mkdir()
        for index in range(4):
            pixels = rng.uniform(0, 255, (44, 52, 3)).astype("uint8")
            Image.fromarray(pixels).save(root / name / f"{index}.png")
    (root / "style" / "broken.jpg").write_bytes(b"not an image")
    return root / "content", root / "style"


class StopAt:
    def __init__(self, step):
        self.step = step

    def __call__(self, step, losses):
        if step == self.step:
            raise KeyboardInterrupt


def test_resume_is_exact(folders, tmp_path):
    content, style = folders
    straight = train_adain(content, style, tmp_path / "straight", steps=5, **TINY)
    assert straight.reason == "done" and straight.steps == 5
    first = train_adain(content, style, tmp_path / "run", steps=5, on_step=StopAt(2), **TINY)
    assert first.reason == "interrupted" and first.steps == 2
    assert (tmp_path / "run" / DECODER_FILE).is_file()
    resumed = train_adain(content, style, tmp_path / "run", steps=5, resume=True, **TINY)
    assert resumed.reason == "done" and resumed.resumed_from == 2 and resumed.steps == 5
    for ours, theirs in zip(resumed.model.decoder.get_weights(), straight.model.decoder.get_weights()):
        np.testing.assert_array_equal(ours, theirs)
    assert resumed.history["loss"] == straight.history["loss"]
    assert resumed.history["step"] == [1, 2, 3, 4, 5]


def test_a_restart_without_the_checkpoint_would_differ(folders, tmp_path):
    # The check above can fail: training 3 more steps from step 0 is not the same as steps 3-5.
    content, style = folders
    straight = train_adain(content, style, tmp_path / "a", steps=5, **TINY)
    other = train_adain(content, style, tmp_path / "b", steps=3, **TINY)
    assert other.history["loss"] == straight.history["loss"][:3]  # same seed, same start
    assert not np.allclose(other.model.decoder.get_weights()[0], straight.model.decoder.get_weights()[0])


def test_training_lowers_the_loss_and_logs(folders, tmp_path):
    content, style = folders
    result = train_adain(content, style, tmp_path / "run", steps=12, learning_rate=1e-3, **TINY)
    losses = result.history["loss"]
    assert np.mean(losses[-3:]) < 0.8 * np.mean(losses[:3])
    assert result.skipped_files == [str(style / "broken.jpg")]
    scalars = read_scalars(tmp_path / "run" / "logs")
    assert {"train/loss", "train/content_loss", "train/style_loss", "train/learning_rate"} <= set(scalars)
    assert [step for step, _ in scalars["train/loss"]] == list(range(1, 13))
    learning_rates = [value for _, value in scalars["train/learning_rate"]]
    np.testing.assert_allclose(learning_rates[-1], 1e-3 / (1 + 5e-5 * 12), rtol=1e-5)  # the paper's decay
    images = read_images(tmp_path / "run" / "logs")
    grid = images["samples/content_style_output"][-1][1]
    assert grid.shape[1] == 3 * 32  # content | style | output
    config = json.loads((tmp_path / "run" / DECODER_CONFIG).read_text())
    assert config["encoder_layer"] == "block2_conv1" and config["steps"] == 12


def test_reconstruction_term_is_logged_exported_and_part_of_the_fingerprint(folders, tmp_path):
    content, style = folders
    result = train_adain(content, style, tmp_path / "run", steps=2, reconstruction_weight=100.0, **TINY)
    assert result.reason == "done" and all(np.isfinite(result.history["reconstruction_loss"]))
    assert "train/reconstruction_loss" in read_scalars(tmp_path / "run" / "logs")
    assert json.loads((tmp_path / "run" / DECODER_CONFIG).read_text())["reconstruction_weight"] == 100.0
    with pytest.raises(OptionError, match="reconstruction_weight"):
        train_adain(content, style, tmp_path / "run", steps=3, resume=True, **TINY)
    with pytest.raises(OptionError, match="reconstruction_weight must be a finite number >= 0"):
        train_adain(content, style, tmp_path / "other", steps=1, reconstruction_weight=-1.0, **TINY)


def test_tv_term_is_logged_exported_and_part_of_the_fingerprint(folders, tmp_path):
    content, style = folders
    result = train_adain(content, style, tmp_path / "run", steps=2, tv_weight=5.0, **TINY)
    assert result.reason == "done" and all(np.isfinite(result.history["total_variation_loss"]))
    assert "train/total_variation_loss" in read_scalars(tmp_path / "run" / "logs")
    assert json.loads((tmp_path / "run" / DECODER_CONFIG).read_text())["tv_weight"] == 5.0
    with pytest.raises(OptionError, match="tv_weight"):
        train_adain(content, style, tmp_path / "run", steps=3, resume=True, **TINY)


def test_shallow_content_term_is_logged_exported_and_part_of_the_fingerprint(folders, tmp_path):
    content, style = folders
    result = train_adain(content, style, tmp_path / "run", steps=2, shallow_content_weight=0.5, **TINY)
    assert result.reason == "done" and all(np.isfinite(result.history["shallow_content_loss"]))
    assert "train/shallow_content_loss" in read_scalars(tmp_path / "run" / "logs")
    assert json.loads((tmp_path / "run" / DECODER_CONFIG).read_text())["shallow_content_weight"] == 0.5
    with pytest.raises(OptionError, match="shallow_content_weight"):
        train_adain(content, style, tmp_path / "run", steps=3, resume=True, **TINY)
    with pytest.raises(OptionError, match="shallow content term needs an encoder layer deeper than block1_conv1"):
        train_adain(content, style, tmp_path / "relu1", steps=1, shallow_content_weight=1.0,
                    **dict(TINY, encoder_layer="block1_conv1"))
    assert not (tmp_path / "relu1" / "checkpoints").exists()


def test_jitter_changes_the_run_is_exported_and_part_of_the_fingerprint(folders, tmp_path, capsys):
    content, style = folders
    plain = train_adain(content, style, tmp_path / "plain", steps=2, **TINY)
    jitter = Jitter(scale=(0.5, 1.5), brightness=0.2, contrast=0.2, saturation=0.2, hue=0.1)
    jittered = train_adain(content, style, tmp_path / "run", steps=2, jitter=jitter, **TINY)
    assert jittered.history["loss"][0] != plain.history["loss"][0]  # other crops from the same seed
    assert json.loads((tmp_path / "run" / DECODER_CONFIG).read_text())["jitter"] == jitter.as_dict()
    assert "jitter" not in json.loads((tmp_path / "plain" / DECODER_CONFIG).read_text())
    with pytest.raises(OptionError, match="jitter"):
        train_adain(content, style, tmp_path / "run", steps=3, resume=True, **TINY)
    with pytest.raises(OptionError, match="jitter must be a tfstyle.augment.Jitter or None"):
        train_adain(content, style, tmp_path / "bad", steps=1, jitter=0.2, **TINY)
    # the CLI's flags build the same Jitter, and a bad amount is one line and exit code 2
    common = ["train-adain", "--content-dir", str(content), "--style-dir", str(style), "--backbone", "vgg16_hed",
              "--encoder-layer", "block2_conv1", "--decoder-width", "0.125", "--batch-size",
              "2", "--crop-size", "32", "--resize-to", "40", "--no-progress", "--steps", "1"]
    assert main([*common, "-o", str(tmp_path / "cli"), "--scale-jitter", "0.5", "1.5", "--color-jitter", "0.2",
                 "--hue-jitter", "0.1"]) == 0
    assert json.loads((tmp_path / "cli" / DECODER_CONFIG).read_text())["jitter"] == jitter.as_dict()
    capsys.readouterr()
    assert main([*common, "-o", str(tmp_path / "bad_cli"), "--hue-jitter", "0.7"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "jitter hue must be a number from 0 to 0.5; Received: hue=0.7" in err
    assert not (tmp_path / "bad_cli").exists()


def test_feature_scale_is_measured_once_kept_on_resume_and_exported(folders, tmp_path):
    content, style = folders
    first = train_adain(content, style, tmp_path / "run", steps=3, on_step=StopAt(1), **TINY)
    scale = first.model.feature_scale
    assert scale > 1.0  # random-weight VGG features of 0-255 Caffe inputs are far larger than 1
    assert json.loads((tmp_path / "run" / DECODER_CONFIG).read_text())["feature_scale"] == scale
    resumed = train_adain(content, style, tmp_path / "run", steps=3, resume=True, **TINY)
    assert resumed.model.feature_scale == scale and resumed.steps == 3
    paper = train_adain(content, style, tmp_path / "paper", steps=1, feature_scale=1.0, **TINY)
    assert paper.model.feature_scale == 1.0
    assert "feature_scale" not in json.loads((tmp_path / "paper" / DECODER_CONFIG).read_text())
    with pytest.raises(OptionError, match="feature_scale must be 'auto' or a positive number"):
        train_adain(content, style, tmp_path / "bad", steps=1, feature_scale=0, **TINY)


def test_init_decoder_starts_from_trained_weights_and_its_feature_scale(folders, tmp_path):
    content, style = folders
    warm = train_adain(content, style, tmp_path / "warm", steps=2, feature_scale=7.5, **TINY)
    start = train_adain(content, style, tmp_path / "tuned", steps=1, checkpoint_every=0, learning_rate=0.0,
                        lr_decay=0.0, init_decoder=str(tmp_path / "warm" / DECODER_FILE),
                        **{k: v for k, v in TINY.items() if k != "checkpoint_every"})
    assert start.model.feature_scale == 7.5  # "auto" takes the initial decoder's scale
    for ours, theirs in zip(start.model.decoder.get_weights(), warm.model.decoder.get_weights()):
        np.testing.assert_array_equal(ours, theirs)  # learning rate 0: still the warm-up decoder
    with pytest.raises(WeightsError, match="decoder weights file not found"):
        train_adain(content, style, tmp_path / "none", steps=1, init_decoder=str(tmp_path / "no.weights.h5"),
                    **TINY)


def test_bad_options(folders, tmp_path):
    content, style = folders
    with pytest.raises(OptionError, match="steps must be an integer of at least 1; received 0"):
        train_adain(content, style, tmp_path / "run", **dict(TINY, steps=0))
    with pytest.raises(OptionError, match="nothing to resume"):
        train_adain(content, style, tmp_path / "run", steps=2, resume=True, **TINY)
    for name, value in (("learning_rate", -1e-4), ("lr_decay", float("nan")), ("style_weight", -1.0),
                        ("structure_weight", float("inf")), ("reconstruction_weight", True),
                        ("tv_weight", -0.5), ("shallow_content_weight", -2.0)):
        with pytest.raises(OptionError, match=f"{name} must be a finite number >= 0; Received: {name}="):
            train_adain(content, style, tmp_path / name, steps=1, **dict(TINY, **{name: value}))
        assert not (tmp_path / name).exists()  # refused before anything is written


def test_cli_trains_refuses_to_overwrite_and_resumes(folders, tmp_path, capsys):
    content, style = folders
    common = ["train-adain", "--content-dir", str(content), "--style-dir", str(style), "-o", str(tmp_path / "w"),
              "--backbone", "vgg16_hed", "--encoder-layer", "block2_conv1", "--decoder-width", "0.125",
              "--batch-size", "2", "--crop-size", "32", "--resize-to", "40", "--no-progress"]
    assert main([*common, "--steps", "2"]) == 0
    out = capsys.readouterr()
    assert f"wrote {tmp_path / 'w' / DECODER_FILE}  (2 steps," in out.out
    assert "1 image file skipped" in out.err
    assert main([*common, "--steps", "3"]) == 2
    assert "already holds a training checkpoint; resume it" in capsys.readouterr().err
    assert main([*common, "--steps", "3", "--resume"]) == 0
    assert "resumed at step 2" in capsys.readouterr().out
    assert main([*common, "--steps", "4", "--resume", "--style-weight", "3"]) == 2
    assert "made with style_weight=10.0, this run has style_weight=3.0" in capsys.readouterr().err
    regularised = [*common[:5], "-o", str(tmp_path / "tv"), *common[7:], "--steps", "1"]
    assert main([*regularised, "--tv-weight", "2", "--reconstruction-weight", "10",
                 "--shallow-content-weight", "0.5"]) == 0
    out = capsys.readouterr().out
    assert all(f"{key} " in out for key in ("reconstruction_loss", "total_variation_loss", "shallow_content_loss"))
    exported = json.loads((tmp_path / "tv" / DECODER_CONFIG).read_text())
    assert exported["tv_weight"] == 2.0 and exported["shallow_content_weight"] == 0.5
    for flag in ("--tv-weight", "--shallow-content-weight"):
        with pytest.raises(SystemExit) as info:  # argparse refuses it: one line, exit 2
            main([*regularised, flag, "-1"])
        assert info.value.code == 2 and flag in capsys.readouterr().err
    other_layer = ["train-adain", "--content-dir", str(content), "--style-dir", str(style), "-o", str(tmp_path / "v"),
                   "--backbone", "vgg16_hed", "--encoder-layer", "block1_conv1", "--init-decoder",
                   str(tmp_path / "w" / DECODER_FILE), "--steps", "1", "--no-progress"]
    assert main(other_layer) == 2 and not (tmp_path / "v").exists()
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "the initial decoder inverts block2_conv1, this run's encoder layer is block1_conv1" in err
    missing = ["train-adain", "--content-dir", str(tmp_path / "nope"), "--style-dir", str(style), "-o",
               str(tmp_path / "x")]
    assert main(missing) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "image folder not found" in err
