"""Tests of tfstyle.cyclegan.image_pool: the CycleGAN history buffer in graph mode and across checkpoints."""

import numpy as np
import pytest
import tensorflow as tf

from tfstyle.cyclegan.image_pool import ImagePool
from tfstyle.errors import OptionError

SHAPE = (2, 2, 3)


def numbered(first, count):
    """A batch of `count` images, image k filled with the value k (so a returned image tells which one it is)."""
    values = np.arange(first, first + count, dtype=np.float32)
    return tf.constant(np.broadcast_to(values[:, None, None, None], (count, *SHAPE)))


def labels(images):
    return [int(value) for value in np.asarray(images)[:, 0, 0, 0]]


def reference_pool(size, seed, batch_sizes):
    """The reference CycleGAN pool, written out in Python, drawing the same coins and slots as `ImagePool`.

    Returns the labels each call returns and the final stored labels.
    """
    generator = tf.random.Generator.from_seed(seed)
    stored, outputs, label = [], [], 0
    for batch in batch_sizes:
        coins = generator.uniform([batch]).numpy()
        slots = generator.uniform([batch], minval=0, maxval=size, dtype=tf.int32).numpy()
        returned = []
        for i in range(batch):
            if len(stored) < size:
                stored.append(label)
                returned.append(label)
            elif coins[i] < 0.5:
                returned.append(stored[slots[i]])
                stored[slots[i]] = label
            else:
                returned.append(label)
            label += 1
        outputs.append(returned)
    return outputs, stored


def run(pool, batch_sizes, call=None, first=0):
    call = call or pool
    outputs = []
    for batch in batch_sizes:
        outputs.append(labels(call(numbered(first, batch))))
        first += batch
    return outputs


def test_images_pass_through_and_are_stored_while_filling():
    pool = ImagePool(size=5, seed=0)
    for k in range(5):
        image = numbered(k, 1)
        np.testing.assert_array_equal(pool(image), image)
        assert int(pool.num_images) == k + 1
    assert labels(pool.images) == [0, 1, 2, 3, 4]


def test_a_full_pool_returns_about_half_from_its_history():
    batch_sizes = [5] + [13] * 15
    pool = ImagePool(size=5, seed=1)
    outputs = sum(run(pool, batch_sizes, call=tf.function(pool.__call__)), [])
    assert outputs[:5] == list(range(5))
    after = outputs[5:]
    from_history = [(k, label) for k, label in enumerate(after, start=5) if label != k]
    assert 0.4 < len(from_history) / len(after) < 0.6
    assert all(label < k for k, label in from_history)                  # always an image seen before
    assert len({label for _, label in from_history}) == len(from_history)  # each stored image is returned once
    assert int(pool.num_images) == 5
    assert sum(reference_pool(5, 1, batch_sizes)[0], []) == outputs   # a function of the seed
    assert sum(reference_pool(5, 2, batch_sizes)[0], []) != outputs


def test_batches_are_handled_image_by_image_as_the_reference():
    batch_sizes = [3, 3, 4, 1, 4, 4]
    expected_outputs, expected_stored = reference_pool(4, 9, batch_sizes)
    pool = ImagePool(size=4, seed=9)
    assert run(pool, batch_sizes) == expected_outputs
    assert expected_outputs[0] == [0, 1, 2] and expected_outputs[1][0] == 3   # filled across the batch boundary
    assert labels(pool.images) == expected_stored
    # a pool of one: several images of a batch swap the same slot, in order
    expected_outputs, _ = reference_pool(1, 4, [1, 6, 6])
    assert run(ImagePool(size=1, seed=4), [1, 6, 6]) == expected_outputs


def test_works_inside_tf_function():
    batch_sizes = [2, 3, 2, 3, 2]
    expected_outputs, expected_stored = reference_pool(4, 5, batch_sizes)

    for image_shape in (SHAPE, None):   # buffer made at construction, or on the first trace
        pool = ImagePool(size=4, image_shape=image_shape, seed=5)
        traces = []

        @tf.function(input_signature=[tf.TensorSpec([None, *SHAPE], tf.float32)])
        def step(images):
            traces.append(1)
            return pool(images) * 1.0

        assert run(pool, batch_sizes, call=step) == expected_outputs
        assert labels(pool.images) == expected_stored
        # traced once; twice when the first trace creates the buffer (tf.function then traces again without it)
        assert len(traces) == (1 if image_shape else 2)


def test_dynamic_image_shape_in_tf_function_needs_image_shape():
    spec = tf.TensorSpec([None, None, None, 3], tf.float32)
    pool = ImagePool(size=2, seed=0)
    with pytest.raises(OptionError) as error:
        tf.function(pool.__call__, input_signature=[spec], autograph=False).get_concrete_function()
    assert str(error.value) == ("ImagePool needs a static image shape to create its buffer: pass "
                                "image_shape=(H, W, C) to the constructor; Received: shape=(None, None, None, 3)")
    pool = ImagePool(size=2, image_shape=SHAPE, seed=0)
    step = tf.function(pool.__call__, input_signature=[spec])
    assert labels(step(numbered(0, 3))) == reference_pool(2, 0, [3])[0][0]


def test_checkpoint_restore_continues_identically(tmp_path):
    pool = ImagePool(size=4, seed=7)
    run(pool, [3, 3, 3])
    path = tf.train.Checkpoint(pool=pool).save(str(tmp_path / "pool"))
    continued = run(pool, [2, 3, 1, 3], first=100)

    restored = ImagePool(size=4, seed=12345)   # another seed and no buffer yet: the checkpoint sets both
    status = tf.train.Checkpoint(pool=restored).restore(path)
    status.assert_existing_objects_matched()
    assert int(restored.num_images) == 4
    assert run(restored, [2, 3, 1, 3], call=tf.function(restored.__call__), first=100) == continued
    status.assert_consumed()   # the buffer, created by the first call, was restored then
    assert any(label < 100 for output in continued for label in output)   # the history was actually used


def test_gradient_flows_to_images_returned_new():
    pool = ImagePool(size=4, seed=0)
    images = numbered(0, 2)
    with tf.GradientTape() as tape:
        tape.watch(images)
        total = tf.reduce_sum(pool(images))
    np.testing.assert_array_equal(tape.gradient(total, images), np.ones_like(images))


def test_size_zero_is_a_pass_through():
    pool = ImagePool(size=0)
    images = numbered(0, 3)
    assert pool(images) is images
    assert pool.variables == ()
    assert pool.get_config() == {"size": 0, "image_shape": None, "seed": None, "dtype": "float32",
                                 "name": "image_pool"}


def test_output_keeps_the_input_dtype():
    pool = ImagePool(size=2, seed=0)
    out = pool(tf.cast(numbered(0, 3), tf.float16))
    assert out.dtype == tf.float16 and pool.images.dtype == tf.float32


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"size": -1}, "size must be an integer >= 0 (0 = no pool); Received: size=-1"),
        ({"size": 2.5}, "size must be an integer >= 0 (0 = no pool); Received: size=2.5"),
        ({"size": True}, "size must be an integer >= 0 (0 = no pool); Received: size=True"),
        ({"image_shape": (8, 8)}, "image_shape must be (height, width, channels) of positive integers; "
                                  "Received: image_shape=(8, 8)"),
        ({"seed": "x"}, "seed must be an integer or None; Received: seed='x'"),
        ({"dtype": "int32"}, "dtype must be a floating-point dtype; Received: dtype='int32'"),
    ],
)
def test_bad_arguments(kwargs, message):
    with pytest.raises(OptionError) as error:
        ImagePool(**kwargs)
    assert str(error.value) == message


def test_bad_images():
    pool = ImagePool(size=2, image_shape=SHAPE)
    with pytest.raises(OptionError) as error:
        pool(tf.zeros((2, 2, 3)))
    assert str(error.value) == "ImagePool expects a batch of images (B, H, W, C); Received: shape=(2, 2, 3)"
    with pytest.raises(OptionError) as error:
        pool(tf.zeros((1, 4, 4, 3)))
    assert str(error.value) == "images of shape (B, *(2, 2, 3)) expected by this pool; Received: shape=(1, 4, 4, 3)"
