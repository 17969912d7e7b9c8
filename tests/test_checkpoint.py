"""Checkpoint and resume of the optimization loop, and the Ctrl-C that lets the current step finish."""

import json
import os
import signal

import numpy as np
import pytest
import tensorflow as tf

from tfstyle.errors import OptionError
from tfstyle.optimize import Callback, optimize_image
from tfstyle.optimize.checkpoint import RunCheckpoint

RNG = np.random.default_rng(0)
TARGET = RNG.uniform(0.2, 0.8, (1, 12, 12, 3)).astype(np.float32)
INIT = np.full((12, 12, 3), 0.5, np.float32)


def bumpy(image):
    """A smooth, badly conditioned objective (a bumpy Rosenbrock valley whose optimum is on the bounds), so that
    Adam's moments and L-BFGS's memory both matter and neither converges within a test's steps."""
    cos = tf.reduce_mean(tf.cos(6.0 * (image - TARGET)))
    x = tf.reshape(image, [-1]) * 1.6 - 0.3
    valley = tf.reduce_mean(10.0 * tf.square(x[1:] - tf.square(x[:-1])) + tf.square(0.9 - x[:-1]))
    return {"total": cos + valley, "cos": cos}


class StopAt(Callback):
    """Raise KeyboardInterrupt after a given step, as Ctrl-C would."""

    def __init__(self, step):
        self.step = step

    def on_step(self, info):
        if info.step == self.step:
            raise KeyboardInterrupt


class SigintAt(Callback):
    """Send a real SIGINT to this process during a step."""

    def __init__(self, step):
        self.step = step

    def on_step(self, info):
        if info.step == self.step:
            os.kill(os.getpid(), signal.SIGINT)


def test_adam_resume_is_exact(tmp_path):
    straight = optimize_image(bumpy, INIT, optimizer="adam", steps=12, learning_rate=0.05)

    checkpoint = RunCheckpoint(tmp_path / "run", every=0, fingerprint={"size": 12})
    first = optimize_image(bumpy, INIT, optimizer="adam", steps=12, learning_rate=0.05,
                           callbacks=[StopAt(5)], checkpoint=checkpoint)
    assert first.reason == "interrupted" and first.steps == 5
    assert checkpoint.exists()

    resumed = optimize_image(bumpy, INIT, optimizer="adam", steps=12, learning_rate=0.05,
                             checkpoint=RunCheckpoint(tmp_path / "run", fingerprint={"size": 12}))
    assert resumed.reason == "done" and resumed.steps == 12 and resumed.resumed_from == 5
    np.testing.assert_allclose(resumed.image, straight.image, atol=1e-6)
    assert len(resumed.history["total"]) == 12
    np.testing.assert_allclose(resumed.history["total"], straight.history["total"], rtol=1e-6)


def test_resume_without_the_optimizer_state_would_differ(tmp_path):
    # The check above can fail: restarting Adam from the saved image with fresh moments gives another result.
    straight = optimize_image(bumpy, INIT, optimizer="adam", steps=12, learning_rate=0.05)
    first = optimize_image(bumpy, INIT, optimizer="adam", steps=5, learning_rate=0.05)
    restarted = optimize_image(bumpy, first.image, optimizer="adam", steps=7, learning_rate=0.05)
    assert np.abs(restarted.image - straight.image).max() > 1e-3


def test_lbfgs_resume_is_exact(tmp_path):
    straight = optimize_image(bumpy, INIT, optimizer="lbfgs", steps=12, lbfgs_memory=5)
    assert straight.steps == 12
    first = optimize_image(bumpy, INIT, optimizer="lbfgs", steps=12, lbfgs_memory=5, callbacks=[StopAt(5)],
                           checkpoint=RunCheckpoint(tmp_path / "run"))
    assert first.reason == "interrupted" and first.steps == 5 and first.checkpoint_saved
    resumed = optimize_image(bumpy, INIT, optimizer="lbfgs", steps=12, lbfgs_memory=5,
                             checkpoint=RunCheckpoint(tmp_path / "run"))
    assert resumed.reason == "done" and resumed.resumed_from == 5 and resumed.steps == 12
    np.testing.assert_array_equal(resumed.image, straight.image)
    assert resumed.history["total"] == straight.history["total"]


def test_lbfgs_restarted_from_the_image_would_differ():
    # The check above can fail: restarting L-BFGS from the saved image with an empty memory gives another result.
    straight = optimize_image(bumpy, INIT, optimizer="lbfgs", steps=12, lbfgs_memory=5)
    first = optimize_image(bumpy, INIT, optimizer="lbfgs", steps=5, lbfgs_memory=5)
    restarted = optimize_image(bumpy, first.image, optimizer="lbfgs", steps=7, lbfgs_memory=5)
    assert np.abs(restarted.image - straight.image).max() > 1e-4


def test_a_checkpoint_of_another_kind_is_refused(tmp_path):
    optimize_image(bumpy, INIT, optimizer="adam", steps=3, checkpoint=RunCheckpoint(tmp_path / "run", every=1))
    with pytest.raises(OptionError, match=r"the checkpoint in .*run does not match this run, which saves image, lbfgsb, step"):
        optimize_image(bumpy, INIT, optimizer="lbfgs", steps=5, checkpoint=RunCheckpoint(tmp_path / "run"))


def test_a_hard_interrupt_in_the_middle_of_a_step_saves_no_checkpoint(tmp_path):
    calls = []

    def breaks_in_step_four(image):
        calls.append(1)
        if len(calls) == 6:  # L-BFGS evaluates once per step here: this is inside the fourth step (after 3)
            raise KeyboardInterrupt
        return bumpy(image)

    checkpoint = RunCheckpoint(tmp_path / "run", every=2)
    result = optimize_image(_Eager(breaks_in_step_four), INIT, optimizer="lbfgs", steps=20, checkpoint=checkpoint)
    assert result.reason == "interrupted" and not result.checkpoint_saved
    assert tf.train.latest_checkpoint(str(tmp_path / "run")).endswith(f"ckpt-{2 * (result.steps // 2)}")
    resumed = optimize_image(bumpy, INIT, optimizer="lbfgs", steps=6, checkpoint=RunCheckpoint(tmp_path / "run"))
    assert resumed.resumed_from == 2 * (result.steps // 2)


class _Eager:
    """An objective evaluated eagerly through `value_and_gradient`, so Python code runs on every evaluation."""

    def __init__(self, function):
        self.function = function

    def value_and_gradient(self, image):
        image = tf.constant(image)
        with tf.GradientTape() as tape:
            tape.watch(image)
            terms = self.function(image)
        gradient = tape.gradient(terms["total"], image)
        return {key: float(value) for key, value in terms.items()}, gradient.numpy()


def test_periodic_checkpoints_keep_the_latest(tmp_path):
    checkpoint = RunCheckpoint(tmp_path / "run", every=3, keep=2)
    optimize_image(bumpy, INIT, optimizer="adam", steps=10, checkpoint=checkpoint)
    latest = tf.train.latest_checkpoint(str(tmp_path / "run"))
    assert latest.endswith("ckpt-10")  # the final save
    indexes = sorted(name for name in os.listdir(tmp_path / "run") if name.endswith(".index"))
    assert indexes == ["ckpt-10.index", "ckpt-9.index"]
    history = json.loads((tmp_path / "run" / "history.json").read_text())
    assert len(history["total"]) == 10


def test_lbfgs_state_files_follow_the_checkpoints_they_belong_to(tmp_path):
    optimize_image(bumpy, INIT, optimizer="lbfgs", steps=10, lbfgs_memory=5,
                   checkpoint=RunCheckpoint(tmp_path / "run", every=3, keep=2))
    names = sorted(name for name in os.listdir(tmp_path / "run") if "ckpt-" in name and "data" not in name)
    assert names == ["ckpt-10.arrays.npz", "ckpt-10.index", "ckpt-9.arrays.npz", "ckpt-9.index"]
    with np.load(tmp_path / "run" / "ckpt-10.arrays.npz") as arrays:
        assert arrays["wa"].size >= 2 * 5 * INIT.size  # the correction pairs are in the file


def test_a_finished_run_can_be_extended(tmp_path):
    optimize_image(bumpy, INIT, optimizer="adam", steps=6, checkpoint=RunCheckpoint(tmp_path / "run", every=4))
    longer = optimize_image(bumpy, INIT, optimizer="adam", steps=9, checkpoint=RunCheckpoint(tmp_path / "run"))
    assert longer.resumed_from == 6 and longer.steps == 9 and len(longer.history["total"]) == 9


def test_a_finished_run_without_periodic_checkpoints_leaves_nothing(tmp_path):
    optimize_image(bumpy, INIT, optimizer="adam", steps=3, checkpoint=RunCheckpoint(tmp_path / "run"))
    assert not (tmp_path / "run").exists()


def test_other_options_are_refused(tmp_path):
    optimize_image(bumpy, INIT, optimizer="adam", steps=2,
                   checkpoint=RunCheckpoint(tmp_path / "run", every=1, fingerprint={"size": 12, "style": "a.png"}))
    with pytest.raises(OptionError, match=r"made with style='a.png', this run has style='b.png'"):
        optimize_image(bumpy, INIT, optimizer="adam", steps=4,
                       checkpoint=RunCheckpoint(tmp_path / "run", fingerprint={"size": 12, "style": "b.png"}))


def test_history_ahead_of_the_checkpoint_is_trimmed(tmp_path):
    optimize_image(bumpy, INIT, optimizer="adam", steps=4, checkpoint=RunCheckpoint(tmp_path / "run", every=2))
    path = tmp_path / "run" / "history.json"
    history = json.loads(path.read_text())
    path.write_text(json.dumps({key: values + [99.0] for key, values in history.items()}))
    resumed = optimize_image(bumpy, INIT, optimizer="adam", steps=6, checkpoint=RunCheckpoint(tmp_path / "run"))
    assert len(resumed.history["total"]) == 6 and 99.0 not in resumed.history["total"]


@pytest.mark.parametrize("optimizer", ["adam", "lbfgs"])
def test_sigint_finishes_the_step_then_saves(tmp_path, optimizer):
    # As in a terminal, with Python's default handler: a background job (as CI may run) starts with SIGINT ignored,
    # and then tfstyle rightly leaves it ignored.
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        _sigint_run(tmp_path, optimizer)
    finally:
        signal.signal(signal.SIGINT, previous)


def _sigint_run(tmp_path, optimizer):
    checkpoint = RunCheckpoint(tmp_path / "run")
    result = optimize_image(bumpy, INIT, optimizer=optimizer, steps=50, callbacks=[SigintAt(4)],
                            checkpoint=checkpoint)
    assert result.reason == "interrupted" and result.steps == 4
    assert tf.train.latest_checkpoint(str(tmp_path / "run")).endswith("ckpt-4")
    # tfstyle's handler is gone afterwards: Python's default handler is back
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_negative_every_is_refused(tmp_path):
    with pytest.raises(OptionError, match="checkpoint_every must be zero or positive; received -1"):
        RunCheckpoint(tmp_path, every=-1)


# --- stylize: checkpoint_dir / resume ----------------------------------------------------------------------------

def smooth(height, width, seed):
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:height, 0:width] / max(height, width)
    phase = rng.uniform(0, 6, 3)
    image = np.stack([np.sin(7 * xx + phase[k]) * np.cos(5 * yy - phase[k]) for k in range(3)], axis=-1)
    return np.clip(0.5 + 0.4 * image, 0, 1).astype(np.float32)


CONTENT, STYLE = smooth(36, 48, 0), smooth(48, 48, 1)
TINY = {"backbone": "vgg16", "weights": None, "size": 48, "optimizer": "adam", "learning_rate": 0.05,
        "progress": False, "verbose": False}


@pytest.mark.parametrize("optimizer", ["adam", "lbfgs"])
def test_stylize_resume_is_exact(tmp_path, optimizer):
    import tfstyle

    options = dict(TINY, optimizer=optimizer)
    straight = tfstyle.stylize(CONTENT, STYLE, steps=8, **options)
    first = tfstyle.stylize(CONTENT, STYLE, steps=8, checkpoint_dir=tmp_path / "ck", callbacks=[StopAt(3)], **options)
    assert first.info["reason"] == "interrupted" and first.info["steps"] == 3 and first.info["checkpoint_saved"]
    resumed = tfstyle.stylize(CONTENT, STYLE, steps=8, checkpoint_dir=tmp_path / "ck", resume=True, **options)
    assert resumed.info["resumed_from"] == 3 and resumed.info["steps"] == 8
    np.testing.assert_allclose(resumed.image, straight.image, atol=1e-5)
    np.testing.assert_allclose(resumed.history["style"], straight.history["style"], rtol=1e-5)


@pytest.mark.parametrize("optimizer", ["adam", "lbfgs"])
def test_stylize_pyramid_resume_skips_finished_levels(tmp_path, optimizer):
    import tfstyle

    options = dict(TINY, sizes=[44, 64], steps=[3, 3], optimizer=optimizer)
    straight = tfstyle.stylize(CONTENT, STYLE, **options)
    first = tfstyle.stylize(CONTENT, STYLE, checkpoint_dir=tmp_path / "ck", callbacks=[StopAt(5)], **options)
    assert first.info["steps"] == 5
    assert sorted(path.name for path in (tmp_path / "ck").iterdir()) == ["level1_44px", "level2_64px"]
    resumed = tfstyle.stylize(CONTENT, STYLE, checkpoint_dir=tmp_path / "ck", resume=True, **options)
    assert resumed.info["resumed_from"] == 5 and resumed.info["steps"] == 6
    assert len(resumed.history["total"]) == 6
    np.testing.assert_allclose(resumed.image, straight.image, atol=1e-5)


def test_stylize_checkpoint_folder_rules(tmp_path):
    import tfstyle

    tfstyle.stylize(CONTENT, STYLE, steps=4, checkpoint_dir=tmp_path / "ck", callbacks=[StopAt(2)], **TINY)
    with pytest.raises(OptionError, match=r"already holds a checkpoint; resume it \(resume=True, --resume\) or "
                                          r"choose another checkpoint folder"):
        tfstyle.stylize(CONTENT, STYLE, steps=4, checkpoint_dir=tmp_path / "ck", **TINY)
    with pytest.raises(OptionError, match=r"was made with style_weight=10.0, this run has style_weight=3.0"):
        tfstyle.stylize(CONTENT, STYLE, steps=4, checkpoint_dir=tmp_path / "ck", resume=True, style_weight=3.0,
                        **TINY)
    with pytest.raises(OptionError, match=r"was made with styles=\['array\[48, 48, 3\]:"):
        tfstyle.stylize(CONTENT, CONTENT, steps=4, checkpoint_dir=tmp_path / "ck", resume=True, **TINY)
    with pytest.raises(OptionError, match="resume needs checkpoint_dir"):
        tfstyle.stylize(CONTENT, STYLE, steps=4, resume=True, **TINY)
