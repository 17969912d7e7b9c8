"""`tfstyle.logging`: TensorBoard summaries of an optimization run, read back from the event files."""

import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

import tfstyle
from tfstyle.logging import (TensorBoardLogger, hparams_values, log_training_step, options_markdown, read_images,
                             read_scalars, read_tags, read_text, scalar_tag)
from tfstyle.optimize import optimize_image
from tfstyle.optimize.callbacks import StepInfo

TARGET = np.linspace(0.0, 1.0, 8 * 8 * 3, dtype=np.float32).reshape(1, 8, 8, 3)
GREY = np.full((8, 8, 3), 0.5, np.float32)
OPTIONS = {"size": 8, "steps": 6, "optimizer": "adam", "style_weight": np.float32(10.0), "normalize": True,
           "style_layers": ["block1_conv1", "block2_conv1"], "backbone": {"vgg19": 1.0}, "init": None}


def objective(image):
    """A quadratic objective with the term structure of `stylize`: total = content + style + tv."""
    content = tf.reduce_mean(tf.square(image - TARGET))
    style_layer = 2.0 * tf.reduce_mean(tf.square(image - 0.3))
    tv = 0.1 * tf.reduce_mean(tf.square(image[:, 1:] - image[:, :-1]))
    return {"total": content + style_layer + tv, "content": content, "style": style_layer, "tv": tv,
            "style/block1_conv1": style_layer}


def run(logdir, steps=6, **logger_args):
    """Log a real `optimize_image` run."""
    logger = TensorBoardLogger(logdir, **logger_args)
    result = optimize_image(objective, GREY, optimizer="adam", steps=steps, callbacks=[logger])
    return logger, result


def drive(logger, steps, stop_at=None, reason="done"):
    """Call the hooks as `optimize_image` does, with made-up terms (fast: nothing to compile)."""
    logger.on_begin(steps)
    info = None
    for step in range(1, (stop_at or steps) + 1):
        terms = {"total": 1.0 / step, "content": 0.5 / step, "style": 0.5 / step}
        info = StepInfo(step, steps, terms, 0.01 * step, lambda: np.full((4, 4, 3), step / steps, np.float32))
        logger.on_step(info)
    logger.on_end(info, reason)


@pytest.fixture(scope="module")
def logged_run(tmp_path_factory):
    """One six-step Adam run logged with images every 2 steps, options and input images."""
    logdir = tmp_path_factory.mktemp("run")
    _, result = run(logdir, images_every=2, options=OPTIONS, content=TARGET[0],
                    style=[GREY, (TARGET[0] * 255).astype(np.uint8)])
    return logdir, result


def test_scalar_tag_keeps_the_slash_structure():
    assert [scalar_tag(key) for key in ("total", "content", "style", "tv")] == [
        "loss/total", "loss/content", "loss/style", "loss/tv"]
    assert scalar_tag("style/block1_conv1") == "style/block1_conv1"
    assert scalar_tag("content/block4_conv2") == "content/block4_conv2"
    assert scalar_tag("vgg19/style/block1_conv1") == "vgg19/style/block1_conv1"


def test_run_through_optimize_image_is_logged(logged_run):
    logdir, result = logged_run
    assert result.steps == 6

    tags = read_tags(logdir)
    assert tags["scalars"] == ["loss/total", "loss/content", "loss/style", "loss/tv", "style/block1_conv1",
                               "time/seconds"]
    assert tags["images"] == ["inputs/content", "inputs/style_0", "inputs/style_1", "image"]
    assert tags["text"] == ["options", "result"]

    scalars = read_scalars(logdir)
    for key, values in result.history.items():
        steps, logged = zip(*scalars[scalar_tag(key)])
        assert steps == (1, 2, 3, 4, 5, 6)
        np.testing.assert_allclose(logged, values, rtol=1e-6)
    seconds = [value for _, value in scalars["time/seconds"]]
    assert seconds == sorted(seconds) and seconds[0] > 0

    images = read_images(logdir)
    assert [step for step, _ in images["image"]] == [2, 4, 6]  # the end image is step 6's, not written twice
    np.testing.assert_array_equal(images["image"][-1][1], np.round(result.image * 255).astype(np.uint8))
    np.testing.assert_array_equal(images["inputs/content"][0][1], np.round(TARGET[0] * 255).astype(np.uint8))
    assert [(step, image.shape) for step, image in images["inputs/style_1"]] == [(0, (8, 8, 3))]
    np.testing.assert_array_equal(images["inputs/style_1"][0][1], (TARGET[0] * 255).astype(np.uint8))

    [(step, text)] = read_text(logdir)["result"]
    assert step == 6
    assert text.startswith("**done** after 6 of 6 steps in ")


def test_options_table_holds_every_value_and_hparams_only_scalars(logged_run):
    [(step, table)] = read_text(logged_run[0])["options"]
    assert step == 0
    assert table == options_markdown(OPTIONS)
    assert table.splitlines() == [
        "| option | value |", "| --- | --- |", "| size | 8 |", "| steps | 6 |", "| optimizer | adam |",
        "| style_weight | 10.0 |", "| normalize | True |", "| style_layers | ['block1_conv1', 'block2_conv1'] |",
        "| backbone | {'vgg19': 1.0} |", "| init | None |"]
    assert hparams_values(OPTIONS) == {"size": 8, "steps": 6, "optimizer": "adam", "style_weight": 10.0,
                                       "normalize": True}
    assert type(hparams_values(OPTIONS)["style_weight"]) is float


def test_markdown_cells_are_escaped():
    assert options_markdown({"a|b": "x\ny"}).splitlines()[-1] == "| a\\|b | x y |"


def test_hparams_hold_the_scalar_options(logged_run):
    from tensorboard.backend.event_processing import event_accumulator
    from tensorboard.plugins.hparams import plugin_data_pb2

    logdir, _ = logged_run
    assert read_tags(logdir)["hparams"] == ["_hparams_/session_start_info"]
    accumulator = event_accumulator.EventAccumulator(str(logdir))
    accumulator.Reload()
    [content] = accumulator.PluginTagToContent("hparams").values()
    hparams = plugin_data_pb2.HParamsPluginData.FromString(content).session_start_info.hparams
    assert {key: getattr(value, value.WhichOneof("kind")) for key, value in hparams.items()} == {
        "size": 8, "steps": 6, "optimizer": "adam", "style_weight": 10.0, "normalize": True}


def test_training_steps_go_into_the_history_and_train_scalars(tmp_path):
    history = {"step": [5], "loss": [2.0]}  # a resumed run's history continues
    writer = tf.summary.create_file_writer(str(tmp_path))
    log_training_step(history, 10, {"loss": 1.5, "content": 0.25}, writer)
    log_training_step(history, 20, {"loss": 0.5, "content": 0.125}, writer)
    writer.close()
    assert history == {"step": [5, 10, 20], "loss": [2.0, 1.5, 0.5], "content": [0.25, 0.125]}
    assert read_scalars(tmp_path) == {"train/loss": [(10, 1.5), (20, 0.5)], "train/content": [(10, 0.25), (20, 0.125)]}

    no_writer = {}
    log_training_step(no_writer, 1, {"loss": 3.0})
    assert no_writer == {"step": [1], "loss": [3.0]}


def test_tf1_summaries_are_read(tmp_path):
    png = tf.io.encode_png(np.zeros((2, 3, 3), np.uint8)).numpy()
    summary = tf.compat.v1.Summary(value=[
        tf.compat.v1.Summary.Value(tag="loss", simple_value=0.5),
        tf.compat.v1.Summary.Value(tag="picture", image=tf.compat.v1.Summary.Image(encoded_image_string=png))])
    with tf.summary.create_file_writer(str(tmp_path)).as_default():
        tf.summary.experimental.write_raw_pb(summary.SerializeToString(), step=3)
    assert read_scalars(tmp_path) == {"loss": [(3, 0.5)]}
    [(step, image)] = read_images(tmp_path)["picture"]
    assert step == 3 and image.shape == (2, 3, 3)


@pytest.mark.parametrize("steps,images_every,expected", [(5, 2, [2, 4, 5]), (6, 2, [2, 4, 6]), (3, 0, [3]),
                                                         (3, None, [3])])
def test_images_every_n_steps_and_at_the_end(tmp_path, steps, images_every, expected):
    drive(TensorBoardLogger(tmp_path, images_every=images_every), steps)
    images = read_images(tmp_path)["image"]
    assert [step for step, _ in images] == expected
    assert [image[0, 0, 0] for _, image in images] == [round(255 * step / steps) for step in expected]


def test_scalars_every_n_steps_and_at_the_last_step(tmp_path):
    drive(TensorBoardLogger(tmp_path, scalars_every=4), steps=6)
    scalars = read_scalars(tmp_path)
    assert scalars["loss/total"] == [(4, 0.25), (6, pytest.approx(1 / 6))]
    assert [step for step, _ in scalars["time/seconds"]] == [4, 6]


def test_interrupted_run_ends_with_its_last_step(tmp_path):
    drive(TensorBoardLogger(tmp_path, scalars_every=5, images_every=5), steps=10, stop_at=3, reason="interrupted")
    assert read_scalars(tmp_path)["loss/total"] == [(3, pytest.approx(1 / 3))]
    assert [step for step, _ in read_images(tmp_path)["image"]] == [3]
    [(step, text)] = read_text(tmp_path)["result"]
    assert step == 3 and text == "**interrupted** after 3 of 10 steps in 0.0 s"


def test_writer_is_flushed_and_closed_at_the_end(tmp_path):
    logger = TensorBoardLogger(tmp_path, flush_secs=3600)  # nothing is flushed on time: on_end must do it
    drive(logger, steps=3)
    assert logger.writer is None
    assert [step for step, _ in read_scalars(tmp_path)["loss/total"]] == [1, 2, 3]
    assert "result" in read_text(tmp_path)
    logger.close()  # closing twice is harmless

    # The same logger can log a second run; it adds an event file to the folder.
    drive(logger, steps=2)
    # Both runs are read; their order is the order of the event-file names, which TensorFlow derives from the
    # second and a process-wide counter (compared as text), so it is not asserted.
    assert sorted(step for step, _ in read_scalars(tmp_path)["loss/total"]) == [1, 1, 2, 2, 3]
    assert len(list(tmp_path.glob("events.out.tfevents.*"))) == 2


def test_bad_arguments_fail_early(tmp_path):
    with pytest.raises(ValueError, match=r"^scalars_every must be an integer at least 1; received 0$"):
        TensorBoardLogger(tmp_path, scalars_every=0)
    with pytest.raises(ValueError, match=r"^images_every must be an integer zero or positive; received -1$"):
        TensorBoardLogger(tmp_path, images_every=-1)
    with pytest.raises(ValueError, match=r"^content must be an image \(H, W, 3\); received shape \(8, 8\)$"):
        TensorBoardLogger(tmp_path, content=np.zeros((8, 8)))
    with pytest.raises(TypeError, match=r"^options must be a mapping; received list$"):
        TensorBoardLogger(tmp_path, options=[("size", 8)])
    with pytest.raises(FileNotFoundError, match=r"^no such log folder: "):
        read_tags(tmp_path / "missing")


def test_module_does_not_import_tensorflow_or_tensorboard():
    code = "import sys, tfstyle.logging; print(sorted({'tensorflow', 'tensorboard'} & set(sys.modules)))"
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert output.strip() == "[]"


def test_stylize_logs_every_layer(tmp_path):
    rng = np.random.default_rng(0)
    content, style = (rng.uniform(0, 1, (40, 40, 3)).astype(np.float32) for _ in range(2))
    result = tfstyle.stylize(content, style, backbone="vgg16", weights=None, size=40, steps=3, optimizer="adam",
                             progress=False, verbose=False, callbacks=[TensorBoardLogger(tmp_path)])
    scalars = read_scalars(tmp_path)
    assert {"loss/total", "loss/content", "loss/style", "loss/tv", "time/seconds"} <= set(scalars)
    layer_tags = {tag for tag in scalars if tag.startswith(("style/", "content/"))}
    assert "style/block1_conv1" in layer_tags and "content/block4_conv2" in layer_tags
    assert layer_tags == {key for key in result.history if "/" in key}
    np.testing.assert_allclose([value for _, value in scalars["style/block1_conv1"]],
                               result.history["style/block1_conv1"], rtol=1e-6)
    assert [step for step, _ in read_images(tmp_path)["image"]] == [3]
