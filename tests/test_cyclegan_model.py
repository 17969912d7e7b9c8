"""The CycleGAN model: loss terms (golden values), train_step (critic steps, the gradient penalty), fit, saving.

Networks are tiny (U-Net depth 2 with 4 filters, a one-layer PatchGAN with 4 filters, 16 px). Golden values use
fixed networks: generators that scale their input and a discriminator that sums the channels (1×1 conv of ones),
for which every term has a closed form. Most steps run eagerly (no tracing); `fit` runs the traced step once. The
two-replica `MirroredStrategy` checks run in a subprocess (logical CPU devices must be configured before TensorFlow
initialises its devices), started with the module's first test so that it overlaps the others.
"""

import json
import os
import pathlib
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfstyle.cyclegan import CycleGAN, LinearDecaySchedule
from tfstyle.cyclegan.model import NETWORKS
from tfstyle.errors import OptionError
from tfstyle.losses.adversarial import WGANGP

REPO = pathlib.Path(__file__).resolve().parents[1]
TINY = {"generator": "unet", "generator_options": {"depth": 2, "filters": 4},
        "discriminator_options": {"n_layers": 1, "filters": 4}}


def random_batch(batch=1, size=16, seed=0):
    rng = np.random.default_rng(seed)
    return {key: rng.random((batch, size, size, 3), dtype="float32") for key in ("a", "b")}


def network_weights(model, keys=NETWORKS):
    return [w for key in keys for w in getattr(model, key).get_weights()]


def flat(weights):
    return np.concatenate([np.ravel(w) for w in weights])


def scaling_generator(scale, name):
    """x ↦ scale·x: no weights, a closed form for every generator term."""
    inputs = keras.Input((None, None, 3))
    return keras.Model(inputs, keras.layers.Rescaling(scale)(inputs), name=name)


def summing_discriminator(name):
    """x ↦ Σ_c x (a 1×1 conv of ones): one score per pixel, input gradient 1 everywhere."""
    inputs = keras.Input((None, None, 3))
    scores = keras.layers.Conv2D(1, 1, kernel_initializer="ones", bias_initializer="zeros")(inputs)
    return keras.Model(inputs, scores, name=name)


def fixed_model(scale, objective="lsgan", **options):
    return CycleGAN(None, objective=objective, generator_ab=scaling_generator(scale, "g"),
                    generator_ba=scaling_generator(scale, "f"), discriminator_a=summing_discriminator("d_a"),
                    discriminator_b=summing_discriminator("d_b"), **options)


# --- the learning-rate schedule ------------------------------------------------------------------------------------

def test_linear_decay_schedule_golden_values_and_round_trip():
    schedule = LinearDecaySchedule(1.0, constant_steps=2, decay_steps=3)
    np.testing.assert_allclose([float(schedule(t)) for t in range(7)], [1, 1, 0.75, 0.5, 0.25, 0, 0])
    # the generators' optimizer with 2 critic steps: update u happens at training step 2u + 1
    every_second = LinearDecaySchedule(1.0, constant_steps=2, decay_steps=3, steps_per_update=2)
    np.testing.assert_allclose([float(every_second(u)) for u in range(3)], [1, 0.5, 0])
    # the reference's 100 + 100 epochs: 1 − max(0, epoch + 1 − 100) / 101
    reference = LinearDecaySchedule(2e-4, 100, 100)
    for epoch in (0, 99, 100, 150, 199):
        np.testing.assert_allclose(float(reference(epoch)), 2e-4 * (1 - max(0, epoch + 1 - 100) / 101), rtol=1e-6)
    restored = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(every_second))
    assert isinstance(restored, LinearDecaySchedule) and restored.get_config() == every_second.get_config()
    with pytest.raises(OptionError, match=r"^decay_steps must be an integer >= 0; Received: decay_steps=-1$"):
        LinearDecaySchedule(1e-4, 10, -1)
    with pytest.raises(OptionError, match=r"^steps_per_update must be an integer >= 1; Received: steps_per_update=0"):
        LinearDecaySchedule(1e-4, 10, 10, steps_per_update=0)


# --- loss terms ----------------------------------------------------------------------------------------------------

def test_compute_losses_golden_values():
    batch = random_batch(batch=2, seed=1)
    a, b = (2.0 * batch[key].astype("float64") - 1.0 for key in ("a", "b"))  # the networks' range
    losses = {key: float(value) for key, value in fixed_model(0.5).compute_losses(batch).items()}
    d = lambda x: x.sum(axis=-1)  # noqa: E731 (the summing discriminator)
    expected = {
        "adv_ab": np.mean((d(0.5 * a) - 1) ** 2), "adv_ba": np.mean((d(0.5 * b) - 1) ** 2),
        "cycle_a": np.mean(np.abs(0.25 * a - a)), "cycle_b": np.mean(np.abs(0.25 * b - b)),
        "identity_a": np.mean(np.abs(0.5 * a - a)), "identity_b": np.mean(np.abs(0.5 * b - b)),
        "d_a": 0.5 * (np.mean((d(a) - 1) ** 2) + np.mean(d(0.5 * b) ** 2)),
        "d_b": 0.5 * (np.mean((d(b) - 1) ** 2) + np.mean(d(0.5 * a) ** 2)),
        "gp_a": 0.0, "gp_b": 0.0,
    }
    expected["generator"] = (expected["adv_ab"] + expected["adv_ba"] + 10 * (expected["cycle_a"] + expected["cycle_b"])
                             + 0.5 * 10 * (expected["identity_a"] + expected["identity_b"]))
    expected["discriminator"] = expected["d_a"] + expected["d_b"]
    assert set(losses) == set(expected)
    for key, value in expected.items():
        np.testing.assert_allclose(losses[key], value, rtol=1e-5, atol=1e-7, err_msg=key)

    # identity generators: nothing to reconstruct; identity_weight 0 removes the term from the total
    losses = fixed_model(1.0, identity_weight=0.0).compute_losses(batch)
    assert float(losses["cycle_a"]) == float(losses["cycle_b"]) == 0.0
    assert float(losses["identity_a"]) == float(losses["identity_b"]) == 0.0
    np.testing.assert_allclose(float(losses["generator"]), float(losses["adv_ab"] + losses["adv_ba"]), rtol=1e-6)

    # WGAN-GP: the critic's input gradient is 1/(H·W) per element (scores averaged over the map), so its norm is
    # sqrt(3/(H·W)) for every interpolate: GP = 10·(sqrt(3/256) − 1)², whatever ε is drawn
    losses = {key: float(value) for key, value in fixed_model(0.5, "wgan-gp", seed=0).compute_losses(batch).items()}
    penalty = 10 * (np.sqrt(3 / 256) - 1) ** 2
    np.testing.assert_allclose([losses["gp_a"], losses["gp_b"]], [penalty, penalty], rtol=1e-5)
    np.testing.assert_allclose(losses["d_a"], np.mean(d(0.5 * b)) - np.mean(d(a)), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(losses["adv_ab"], -np.mean(d(0.5 * a)), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(losses["discriminator"], losses["d_a"] + losses["d_b"] + 2 * penalty, rtol=1e-5)


def test_translate_takes_and_gives_unit_range_images_of_any_size():
    model = fixed_model(-1.0)  # in the networks' range x ↦ −x, i.e. an image ↦ 1 − image
    image = np.random.default_rng(2).random((13, 18, 3), dtype="float32")
    np.testing.assert_allclose(model.translate_ab(image), 1.0 - image, atol=1e-6)
    np.testing.assert_allclose(model.translate_ba(image[None]), 1.0 - image[None], atol=1e-6)
    fake_b, fake_a = model({"a": image[None], "b": image[None]})
    np.testing.assert_allclose(np.asarray(fake_b), 1.0 - image[None], atol=1e-6)
    unet = CycleGAN(**TINY, pool_size=0)  # size_multiple 4: 13 × 18 is padded to 16 × 20 and cropped back
    assert unet.size_multiple == 4
    output = unet.translate_ab(image)
    assert output.shape == (13, 18, 3) and output.dtype == np.float32 and 0 <= output.min() <= output.max() <= 1
    with pytest.raises(OptionError, match=r"^direction must be 'ab' or 'ba'; Received: direction='ba2'$"):
        unet.translate(image, "ba2")


# --- train_step ----------------------------------------------------------------------------------------------------

def test_critic_steps_update_the_generators_every_nth_step_only():
    keras.utils.set_random_seed(0)
    model = CycleGAN(**TINY, objective=WGANGP(critic_steps=2), pool_size=1, seed=0)
    model.compile()
    optimizer = model.generator_optimizer  # the objective's recommended Adam for WGAN-GP
    assert (float(optimizer.learning_rate), optimizer.beta_1, optimizer.beta_2) == pytest.approx((1e-4, 0.0, 0.9))
    generators, discriminators = ("generator_ab", "generator_ba"), ("discriminator_a", "discriminator_b")
    for step in range(1, 3):
        before_g, before_d = flat(network_weights(model, generators)), flat(network_weights(model, discriminators))
        logs = model.train_step(random_batch(seed=step))
        assert set(logs) == set(model.loss_names) and float(logs["gp_a"]) > 0
        changed_g = not np.array_equal(flat(network_weights(model, generators)), before_g)
        changed_d = not np.array_equal(flat(network_weights(model, discriminators)), before_d)
        assert (changed_g, changed_d) == (step == 2, True), step
    assert int(model.step_counter.numpy()) == 2
    assert int(model.generator_optimizer.iterations.numpy()) == 1
    assert int(model.discriminator_optimizer.iterations.numpy()) == 2
    assert int(model.pool_a.num_images.numpy()) == 1  # full after one image


def test_the_gradient_penalty_changes_the_critic_update_and_only_it():
    """One train_step from the same weights and batch with penalty weight 10 and 0 (SGD shows the gradients)."""
    batch = random_batch(batch=2, seed=3)
    steps = {}
    for weight in (10.0, 0.0):
        keras.utils.set_random_seed(0)
        model = CycleGAN(**TINY, objective=WGANGP(gradient_penalty_weight=weight, critic_steps=1), pool_size=0,
                         seed=0)
        model.compile(generator_optimizer=keras.optimizers.SGD(0.1),
                      discriminator_optimizer=keras.optimizers.SGD(0.1))
        before = {key: flat(getattr(model, key).get_weights()) for key in NETWORKS}
        logs = model.train_step(batch)
        steps[weight] = {key: flat(getattr(model, key).get_weights()) - before[key] for key in NETWORKS}
        steps[weight]["gp"] = float(logs["gp_a"]) + float(logs["gp_b"]) if weight else None
        assert ("gp_a" in logs) == (weight > 0)  # logged only when a penalty is applied
    assert steps[10.0]["gp"] > 1
    for key in ("discriminator_a", "discriminator_b"):
        with_penalty, without = steps[10.0][key], steps[0.0][key]
        assert np.linalg.norm(without) > 0
        assert np.linalg.norm(with_penalty - without) > 0.1 * np.linalg.norm(without), key
    for key in ("generator_ab", "generator_ba"):  # the penalty sends no gradient to the generators
        np.testing.assert_allclose(steps[10.0][key], steps[0.0][key], rtol=1e-5, atol=1e-9)


def test_fit_runs_the_traced_step_and_test_step_leaves_the_pools_alone():
    keras.utils.set_random_seed(0)
    model = CycleGAN(**TINY, pool_size=3, image_shape=(16, 16, 3), seed=0)
    model.compile()
    batches = random_batch(batch=2, seed=4)
    dataset = tf.data.Dataset.from_tensor_slices(batches).batch(1)
    history = model.fit(dataset, epochs=1, verbose=0, shuffle=False).history
    assert set(history) == set(model.loss_names) and "gp_a" not in history  # LSGAN: no penalty to log
    assert all(np.isfinite(values[-1]) for values in history.values())
    assert [int(v.numpy()) for v in (model.step_counter, model.generator_optimizer.iterations,
                                     model.discriminator_optimizer.iterations)] == [2, 2, 2]
    stored = model.pool_b.images.numpy().copy()
    assert int(model.pool_b.num_images.numpy()) == 2
    results = model.test_step(batches)  # what evaluate runs
    assert set(results) == set(model.loss_names)
    np.testing.assert_array_equal(model.pool_b.images.numpy(), stored)
    assert int(model.pool_b.num_images.numpy()) == 2


def test_keras_file_round_trip_with_optimizers(tmp_path):
    keras.utils.set_random_seed(0)
    model = CycleGAN(**TINY, objective="vanilla", cycle_weight=7.0, identity_weight=0.0, pool_size=0, seed=5)
    model.compile()
    assert (model.discriminator_optimizer.beta_1, float(model.discriminator_optimizer.learning_rate)) == \
        pytest.approx((0.5, 2e-4))  # CycleGAN's Adam
    batch = random_batch(seed=6)
    model.train_step(batch)
    path = tmp_path / "cyclegan.keras"
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    assert isinstance(loaded, CycleGAN) and loaded.get_config() == model.get_config()
    assert loaded.objective.name == "vanilla" and loaded.cycle_weight == 7.0 and loaded.identity_weight == 0.0
    for ours, theirs in zip(network_weights(loaded), network_weights(model)):
        np.testing.assert_array_equal(ours, theirs)
    assert int(loaded.step_counter.numpy()) == 1
    for key in ("generator_optimizer", "discriminator_optimizer"):
        for ours, theirs in zip(getattr(loaded, key).variables, getattr(model, key).variables):
            np.testing.assert_array_equal(np.asarray(ours), np.asarray(theirs))
    expected = model.compute_losses(batch)
    for key, value in loaded.compute_losses(batch).items():
        np.testing.assert_allclose(float(value), float(expected[key]), rtol=1e-6, err_msg=key)


def test_bad_options():
    def message(**options):
        with pytest.raises(OptionError) as info:
            CycleGAN(**{**TINY, **options})
        return str(info.value)

    assert message(pool_size=-1) == "pool_size must be an integer >= 0 (0 = no pool); Received: pool_size=-1"
    assert message(cycle_weight=float("nan")) == "cycle_weight must be a finite number >= 0; Received: cycle_weight=nan"
    assert message(generator="vgg") == ("generator must be one of resnet, unet, unet_attention; "
                                        "Received: generator='vgg'")
    assert message(objective="hinge").startswith("unknown adversarial objective 'hinge'")
    assert message(generator=None) == "generator=None needs both generator_ab and generator_ba models"
    inputs = keras.Input((None, None, 3))
    gray = keras.Model(inputs, keras.layers.Conv2D(1, 1)(inputs))
    assert message(generator_ab=gray) == ("the identity loss needs generators from 3 to 3 channels; generator_ab "
                                          "maps 3 to 1 channels: use identity_weight=0")
    model = CycleGAN(**TINY, pool_size=0)
    with pytest.raises(OptionError, match=r"^CycleGAN.compile takes generator_optimizer and discriminator_optimizer, "
                                          r"not optimizer; Received: optimizer='adam'$"):
        model.compile(optimizer="adam")
    with pytest.raises(OptionError, match=r"^compile\(\) the CycleGAN before training it$"):
        model.train_step(random_batch())
    with pytest.raises(OptionError, match=r"^a CycleGAN batch needs keys a and b; Received: keys=\['a', 'c'\]$"):
        model.compute_losses({"a": 0, "c": 0})


# --- two replicas --------------------------------------------------------------------------------------------------

DISTRIBUTED = textwrap.dedent("""
    import json
    import tensorflow as tf
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    import keras
    import numpy as np
    from tfstyle.cyclegan import CycleGAN
    from tfstyle.cyclegan.model import NETWORKS
    from tfstyle.cyclegan.training import _train_functions
    from tfstyle.errors import OptionError
    from tfstyle.losses.adversarial import LSGAN

    # identity_weight=0: two generator passes fewer to trace (the identity term is checked elsewhere)
    TINY = dict(generator="unet", generator_options={"depth": 2, "filters": 4},
                discriminator_options={"n_layers": 1, "filters": 4}, identity_weight=0.0, seed=0)
    rng = np.random.default_rng(0)
    data = {key: rng.random((4, 16, 16, 3), dtype="float32") for key in ("a", "b")}
    batches = [{key: value[i:i + 2] for key, value in data.items()} for i in (0, 2)]
    one, two = tf.distribute.get_strategy(), tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    initial = {}

    def build(strategy, objective):
        with strategy.scope():
            model = CycleGAN(objective=objective, pool_size=0, **TINY)
            for key in NETWORKS:
                weights = initial.setdefault((repr(objective), key), getattr(model, key).get_weights())
                getattr(model, key).set_weights(weights)
            # SGD: a wrong gradient scale shows in the step
            model.compile(generator_optimizer=keras.optimizers.SGD(0.1),
                          discriminator_optimizer=keras.optimizers.SGD(0.1))
        return model

    def change(model, objective):
        return {kind: np.concatenate([(w - w0).ravel() for key in NETWORKS if key.startswith(kind[:-1])
                                      for w, w0 in zip(getattr(model, key).get_weights(),
                                                       initial[(repr(objective), key)])])
                for kind in ("generators", "discriminators")}

    def one_device(objective, steps):  # the reference: eager train_step calls on the whole batch of 2
        model = build(one, objective)
        for batch in batches[:steps]:
            logs = model.train_step(batch)
        return {key: float(value) for key, value in logs.items()}, change(model, objective)

    def loop(objective, steps):  # the loop of train_cyclegan on two replicas: 1 image per replica
        model = build(two, objective)
        functions = _train_functions(model, two)
        stream = iter(two.experimental_distribute_dataset(tf.data.Dataset.from_tensor_slices(data).batch(2)))
        for step in range(steps):
            logs = functions[None if None in functions else (step + 1) % model.critic_steps == 0](next(stream))
        return sorted(map(repr, functions)), {key: float(value) for key, value in logs.items()}, change(model,
                                                                                                      objective)

    class TwoStepLSGAN(LSGAN):  # LSGAN with the generators updated every 2nd step: both traced steps run
        critic_steps = 2

    objective = TwoStepLSGAN()
    report = {"replicas": two.num_replicas_in_sync}
    report["logs_one"], step_one = one_device(objective, 2)
    report["functions"], report["logs_two"], step_two = loop(objective, 2)
    report["step_norms"] = [float(np.linalg.norm(step_one[key])) for key in ("generators", "discriminators")]
    report["step_differences"] = [float(np.linalg.norm(step_one[key] - step_two[key]))
                                  for key in ("generators", "discriminators")]
    with two.scope():
        try:
            CycleGAN(pool_size=50, **TINY)
        except OptionError as error:
            report["pool_error"] = str(error)
    model = build(two, objective)
    try:
        model.fit(tf.data.Dataset.from_tensor_slices(data).batch(2), verbose=0)
    except OptionError as error:
        report["fit_error"] = str(error)
    print(json.dumps(report))
""")


def _start_distributed_check():
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    return subprocess.Popen([sys.executable, "-c", DISTRIBUTED], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=env, cwd=REPO)


@pytest.fixture(scope="module", autouse=True)
def distributed_check(request):
    """Start the MirroredStrategy subprocess with the module's first test, so that it overlaps the other tests."""
    selected = any(item.name == "test_mirrored_strategy_steps_equal_one_device_steps" for item in request.session.items)
    process = _start_distributed_check() if selected else None
    yield process
    if process is not None and process.poll() is None:
        process.kill()
        process.communicate()


def test_mirrored_strategy_steps_equal_one_device_steps(distributed_check):
    process = distributed_check or _start_distributed_check()
    stdout, stderr = process.communicate(timeout=600)
    assert process.returncode == 0, stderr[-3000:]
    report = json.loads(stdout.strip().splitlines()[-1])
    assert report["replicas"] == 2
    # LSGAN, pool_size=0, generators updated at step 2 only: the loop of train_cyclegan alternates two traced steps
    assert report["functions"] == ["False", "True"]
    # two steps on 2 replicas (1 image each) equal two one-device steps on the batch of 2: losses and updates
    assert report["logs_two"] == pytest.approx(report["logs_one"], rel=1e-4, abs=1e-6)
    assert min(report["step_norms"]) > 0
    # without dividing the losses by the number of replicas the steps would be twice as long (difference = norm)
    for difference, norm in zip(report["step_differences"], report["step_norms"]):
        assert difference < 1e-3 * norm
    assert report["pool_error"] == ("the image pool keeps one history of generated images and cannot be split over 2 "
                                    "replicas: use pool_size=0 under a multi-replica strategy; Received: pool_size=50")
    assert report["fit_error"] == ("critic_steps=2 with 2 replicas: the generators' update cannot be gated inside one "
                                   "traced step there; train with tfstyle.cyclegan.train_cyclegan (it alternates two "
                                   "traced steps) or one replica")
