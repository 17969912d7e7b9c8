"""`tfstyle.optimizers.FusedAdam`: the same updates as `keras.optimizers.Adam` (one device and two replicas), the same
variables (checkpoints move both ways), a `.keras` round-trip, and the fallbacks.

The two-replica check runs in a subprocess: logical CPU devices must be configured before TensorFlow starts.
"""

import json
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfstyle.optimizers import FusedAdam

RNG = np.random.default_rng(1)
X = RNG.normal(size=(16, 5)).astype("float32")
Y = RNG.normal(size=(16, 1)).astype("float32")


def small_model():
    keras.utils.set_random_seed(0)
    return keras.Sequential([keras.Input((5,)), keras.layers.Dense(7, activation="tanh"), keras.layers.Dense(1)])


def trained(optimizer, epochs=3):
    """Weights and optimizer variables after `fit` (2 batches per epoch, no shuffling)."""
    model = small_model()
    model.compile(optimizer=optimizer, loss="mse")
    model.fit(X, Y, batch_size=8, epochs=epochs, shuffle=False, verbose=0)
    return model, [v.numpy() for v in model.weights] + [v.numpy() for v in model.optimizer.variables]


def schedule():
    return keras.optimizers.schedules.ExponentialDecay(1e-2, decay_steps=3, decay_rate=0.5)


@pytest.mark.parametrize("options", [
    dict(learning_rate=1e-2),
    dict(learning_rate=schedule(), beta_1=0.5),           # CycleGAN's betas under a schedule
    dict(learning_rate=1e-3, beta_1=0.0, beta_2=0.9),     # WGAN-GP's
    dict(learning_rate=1e-2, epsilon=1e-3, clipnorm=0.1, weight_decay=0.01),
], ids=["defaults", "schedule", "wgan-gp", "epsilon-clip-decay"])
def test_fused_adam_takes_the_same_steps_as_keras_adam(options):
    _, reference = trained(keras.optimizers.Adam(**options))
    model, fused = trained(FusedAdam(**options))
    assert model.optimizer.iterations.numpy() == 6
    moved = max(np.abs(a - b).max() for a, b in zip(reference[:4], small_model().get_weights()))
    assert moved > 1e-3  # the runs train, so equal weights mean equal updates
    for a, b in zip(reference, fused):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_amsgrad_falls_back_to_the_keras_update():
    _, reference = trained(keras.optimizers.Adam(1e-2, amsgrad=True))
    _, fused = trained(FusedAdam(1e-2, amsgrad=True))
    for a, b in zip(reference, fused):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)


def test_a_different_update_would_be_caught():
    """The comparison above is sharp enough to see a wrong epsilon."""
    _, reference = trained(keras.optimizers.Adam(1e-2))
    _, other = trained(FusedAdam(1e-2, epsilon=1e-4))
    assert max(np.abs(a - b).max() for a, b in zip(reference[:4], other[:4])) > 1e-5


def test_checkpoints_move_between_adam_and_fused_adam(tmp_path):
    model, fused = trained(FusedAdam(1e-2), epochs=1)
    path = tf.train.Checkpoint(model=model, optimizer=model.optimizer).write(str(tmp_path / "ckpt"))
    other = small_model()
    other.compile(optimizer=keras.optimizers.Adam(1e-2), loss="mse")
    other.optimizer.build(other.trainable_variables)
    tf.train.Checkpoint(model=other, optimizer=other.optimizer).read(path).assert_consumed()
    for a, b in zip(fused, [v.numpy() for v in other.weights] + [v.numpy() for v in other.optimizer.variables]):
        np.testing.assert_array_equal(a, b)


def test_a_model_saved_with_fused_adam_loads_with_it(tmp_path):
    model, _ = trained(FusedAdam(3e-3, beta_1=0.5), epochs=1)
    model.save(tmp_path / "m.keras")
    loaded = keras.saving.load_model(tmp_path / "m.keras", safe_mode=True)
    assert type(loaded.optimizer) is FusedAdam
    assert (loaded.optimizer.beta_1, float(loaded.optimizer.learning_rate)) == (0.5, pytest.approx(3e-3))
    for a, b in zip(model.optimizer.variables, loaded.optimizer.variables):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert type(keras.optimizers.deserialize(keras.optimizers.serialize(FusedAdam()))) is FusedAdam


TWO_REPLICAS = textwrap.dedent("""
    import json
    import tensorflow as tf
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    import keras
    import numpy as np
    from tfstyle.optimizers import FusedAdam

    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(16, 5)).astype("float32"), rng.normal(size=(16, 1)).astype("float32")

    def run(optimizer_class, strategy):
        with strategy.scope():
            keras.utils.set_random_seed(0)
            model = keras.Sequential([keras.Input((5,)), keras.layers.Dense(7, activation="tanh"),
                                      keras.layers.Dense(1)])
            model.compile(optimizer=optimizer_class(1e-2, beta_1=0.5), loss="mse")
        model.fit(x, y, batch_size=8, epochs=3, shuffle=False, verbose=0)
        return model

    one = run(keras.optimizers.Adam, tf.distribute.get_strategy())
    two = run(FusedAdam, tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"]))
    variables = list(zip(one.weights + one.optimizer.variables, two.weights + two.optimizer.variables))
    print(json.dumps({
        "replicas": [len(b.value.values) for _, b in variables],
        "vs_one_device": max(float(np.abs(a.numpy() - b.numpy()).max()) for a, b in variables),
        "between_replicas": max(float(np.abs(b.value.values[0].numpy() - b.value.values[1].numpy()).max())
                                for _, b in variables),
    }))
""")


def test_two_replicas_take_the_one_device_steps_and_stay_in_sync():
    result = subprocess.run([sys.executable, "-c", TWO_REPLICAS], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert set(report["replicas"]) == {2}
    assert report["vs_one_device"] < 1e-5
    assert report["between_replicas"] == 0.0
