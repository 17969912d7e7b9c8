"""Training a CycleGAN from folders: exact resume, Ctrl-C, divergence, TensorBoard, the exported generators.

One straight 4-step run (module fixture) serves as the reference of the resume test and as the run whose logs and
exports are checked. It uses WGAN-GP with 2 critic steps and a pool of 2, so that every piece of state a resume
must restore is exercised: the step counter gating the generators, both optimizers, the pools and their random
generators, the penalty's random generator and the data stream.
"""

import json

import keras
import numpy as np
import pytest
from PIL import Image

from tfstyle.cyclegan import train_cyclegan
from tfstyle.cyclegan.model import NETWORKS
from tfstyle.cyclegan.training import GENERATOR_FILES, GENERATORS_CONFIG
from tfstyle.errors import OptionError
from tfstyle.logging import read_images, read_scalars

TINY = dict(generator="unet", generator_options={"depth": 2, "filters": 4},
            discriminator_options={"n_layers": 1, "filters": 4}, objective="wgan-gp", critic_steps=2, pool_size=2,
            batch_size=1, crop_size=16, resize_to=20, steps=4, decay_steps=2, checkpoint_every=0, log_every=1,
            images_every=2, progress=False)


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    root = tmp_path_factory.mktemp("cyclegan_data")
    rng = np.random.default_rng(0)
    for name in ("a", "b"):
        (root / name).mkdir()
        for index in range(3):
            Image.fromarray(rng.uniform(0, 255, (24, 28, 3)).astype("uint8")).save(root / name / f"{index}.png")
    (root / "b" / "broken.jpg").write_bytes(b"not an image")
    return root / "a", root / "b"


@pytest.fixture(scope="module")
def straight(folders, tmp_path_factory):
    workdir = tmp_path_factory.mktemp("cyclegan_runs") / "straight"
    return train_cyclegan(*folders, workdir, **TINY), workdir


class StopAt:
    def __init__(self, step):
        self.step = step

    def __call__(self, step, losses):
        if step == self.step:
            raise KeyboardInterrupt


def state(model):
    """Every array a resume must restore: networks, optimizers, pools (and their generators), counters."""
    arrays = [w for key in NETWORKS for w in getattr(model, key).get_weights()]
    arrays += [np.asarray(v) for key in ("generator_optimizer", "discriminator_optimizer")
               for v in getattr(model, key).variables]
    for pool in (model.pool_a, model.pool_b):
        arrays += [pool.images.numpy(), pool.num_images.numpy(), pool.generator.state.numpy()]
    return arrays + [model.penalty_random.state.numpy(), model.step_counter.numpy()]


def test_an_interrupted_and_resumed_run_equals_the_straight_run(folders, straight, tmp_path):
    reference, _ = straight
    options = {**TINY, "images_every": 0}  # logging is no training state; the previews only cost time
    first = train_cyclegan(*folders, tmp_path / "run", on_step=StopAt(2), **options)  # Ctrl-C after step 2
    assert (first.reason, first.steps) == ("interrupted", 2)
    assert sorted(path.name for path in first.generator_paths.values()) == sorted(GENERATOR_FILES.values())
    assert (tmp_path / "run" / "checkpoints" / "ckpt-2.index").is_file()
    assert not np.array_equal(first.model.generator_ab.get_weights()[0], reference.model.generator_ab.get_weights()[0])

    resumed = train_cyclegan(*folders, tmp_path / "run", resume=True, **options)
    assert (resumed.reason, resumed.resumed_from, resumed.steps) == ("done", 2, 4)
    ours, theirs = state(resumed.model), state(reference.model)
    assert len(ours) == len(theirs)
    for index, (a, b) in enumerate(zip(ours, theirs)):
        np.testing.assert_array_equal(a, b, err_msg=f"state array {index}")
    assert int(resumed.model.pool_a.num_images.numpy()) == 2  # the pools filled and then swapped images
    assert int(resumed.model.generator_optimizer.iterations.numpy()) == 2  # steps 2 and 4
    assert resumed.history == reference.history
    assert resumed.history["step"] == [1, 2, 3, 4]


def test_logs_exports_and_metadata(folders, straight):
    result, workdir = straight
    assert (result.reason, result.steps, result.resumed_from) == ("done", 4, 0)
    assert result.skipped_files == [str(folders[1] / "broken.jpg")]
    assert set(result.history) == {"step", *result.model.loss_names}
    assert all(np.isfinite(values).all() for values in result.history.values())

    scalars = read_scalars(workdir / "logs")
    for name in result.model.loss_names:
        assert [step for step, _ in scalars[f"train/{name}"]] == [1, 2, 3, 4], name
    # lr(t) = 1e-4·clip((4 − t)/3, 0, 1) after t steps; the generators' (every 2nd step) as of their next update
    learning_rates = {key: [value for _, value in scalars[f"train/{key}_learning_rate"]]
                      for key in ("generator", "discriminator")}
    np.testing.assert_allclose(learning_rates["discriminator"], [1e-4, 2e-4 / 3, 1e-4 / 3, 0], rtol=1e-5, atol=1e-12)
    np.testing.assert_allclose(learning_rates["generator"], [1e-4, 1e-4 / 3, 1e-4 / 3, 0], rtol=1e-5, atol=1e-12)
    images = read_images(workdir / "logs")
    for tag in ("samples/a_to_b_to_a", "samples/b_to_a_to_b"):
        assert [step for step, _ in images[tag]] == [1, 2, 4]
        assert images[tag][-1][1].shape == (3 * 16, 3 * 16, 3)  # 3 preview images; real | translated | rebuilt

    metadata = json.loads((workdir / GENERATORS_CONFIG).read_text())
    assert {key: metadata[key] for key in ("generator_ab", "generator_ba", "steps", "generator", "generator_options",
                                           "objective", "crop_size", "value_range", "size_multiple", "domains",
                                           "directions")} == {
        "generator_ab": "generator_ab.keras", "generator_ba": "generator_ba.keras", "steps": 4, "generator": "unet",
        "generator_options": {"depth": 2, "filters": 4}, "objective": "wgan-gp", "crop_size": 16,
        "value_range": [-1.0, 1.0], "size_multiple": 4, "domains": {"a": "a", "b": "b"},
        "directions": {"ab": "a -> b", "ba": "b -> a"}}
    assert sorted(path.name for path in workdir.iterdir()) == ["checkpoints", "generator_ab.keras",
                                                               "generator_ba.keras", "generators.json", "logs"]
    images = np.random.default_rng(1).uniform(-1, 1, (1, 20, 24, 3)).astype("float32")
    for direction, path in result.generator_paths.items():
        loaded = keras.saving.load_model(path, safe_mode=True)
        expected = getattr(result.model, f"generator_{direction}")(images)
        np.testing.assert_allclose(np.asarray(loaded(images)), np.asarray(expected), rtol=1e-5, atol=1e-6)


def test_runs_with_other_options_are_refused(folders, straight, tmp_path):
    _, workdir = straight

    def message(workdir, **options):
        with pytest.raises(OptionError) as info:
            train_cyclegan(*folders, workdir, **{**TINY, **options})
        return str(info.value)

    assert message(workdir).startswith(f"{workdir} already holds a training checkpoint; resume it")
    assert message(workdir, resume=True, cycle_weight=5.0) == (
        f"the checkpoint in {workdir / 'checkpoints'} was made with cycle_weight=10.0, this run has cycle_weight=5.0; "
        f"use the same options or another checkpoint folder")
    assert "was made with constant_steps=2, this run has constant_steps=4" in message(workdir, resume=True, steps=6)
    assert message(tmp_path / "new", resume=True) == (f"nothing to resume: {tmp_path / 'new'} holds no training "
                                                      f"checkpoint")
    assert message(tmp_path / "x", objective="lsgan") == ("critic_steps applies to the wgan-gp objective only; "
                                                          "Received: objective='lsgan', critic_steps=2")
    assert "this run has betas={'beta_1': 0.5, 'beta_2': 0.9}" in message(workdir, resume=True, beta_1=0.5)
    assert message(tmp_path / "x", beta_2=1.0) == "beta_2 must be a number in [0, 1); Received: beta_2=1.0"
    assert message(tmp_path / "x", decay_steps=5) == "decay_steps must be at most steps=4; Received: decay_steps=5"
    assert message(tmp_path / "x", max_seconds=-1) == ("max_seconds must be a finite number >= 0 or None; "
                                                       "Received: max_seconds=-1")
    assert message(tmp_path / "x", discriminator_options={}) == (
        "crop_size 16 is too small for a PatchGAN discriminator with n_layers=3: it needs at least 24 px (or fewer "
        "layers)")
    assert message(tmp_path / "x", crop_size=18) == ("crop_size 18 is not a multiple of 4, which the unet generator "
                                                     "needs (options {'depth': 2, 'filters': 4})")
    assert not (tmp_path / "x").exists()


def test_a_diverging_run_stops_and_keeps_the_last_checkpoint(folders, tmp_path):
    # Adam moves every weight by about the learning rate: 1e30 makes the scores overflow at the next step
    options = {**TINY, "objective": "lsgan", "critic_steps": None, "identity_weight": 0.0, "checkpoint_every": 1,
               "images_every": 0}
    result = train_cyclegan(*folders, tmp_path / "run", learning_rate=1e30, **options)
    assert result.reason == "diverged" and 2 <= result.steps <= 4
    last_good = result.steps - 1
    assert result.history["step"] == list(range(1, last_good + 1))
    assert json.loads((tmp_path / "run" / GENERATORS_CONFIG).read_text())["steps"] == last_good
    assert (tmp_path / "run" / "checkpoints" / f"ckpt-{last_good}.index").is_file()
    assert not (tmp_path / "run" / "checkpoints" / f"ckpt-{result.steps}.index").exists()
    assert sorted(result.generator_paths) == ["ab", "ba"]


def test_adam_betas_default_to_the_objective_and_can_be_set(folders, straight, tmp_path):
    model = straight[0].model
    assert (model.generator_optimizer.beta_1, model.generator_optimizer.beta_2) == (0.0, 0.9)  # WGAN-GP's
    result = train_cyclegan(*folders, tmp_path / "run", **{**TINY, "steps": 1, "decay_steps": 0, "beta_1": 0.5})
    for optimizer in (result.model.generator_optimizer, result.model.discriminator_optimizer):
        assert (optimizer.beta_1, optimizer.beta_2) == (0.5, 0.9)
