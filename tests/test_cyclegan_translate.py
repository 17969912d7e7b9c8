"""Translating images of any size with CycleGAN generators, and finding generators by file, work folder or name.

Generators are tiny (`resnet` with 1 block and 4 filters, `unet` of depth 3 with 4 filters), exported with
`export_generator` into temporary folders. Padding and the [0, 1] ↔ [-1, 1] mapping are checked with golden
values: on the padding helper itself, and through an identity "generator" and one that mirrors its input left to
right (whose output shows the padding it was given).
"""

import json
import zipfile

import keras
import numpy as np
import pytest
from keras import ops
from PIL import Image

from tfstyle.cyclegan import build_generator, pretrained
from tfstyle.cyclegan.pretrained import (Generator, available_generators, export_generator, find_generator,
                                         load_generator)
from tfstyle.cyclegan.translate import (DEFAULT_MAX_PIXELS, MAX_PIXELS_ENV, Translator, output_names, pad_to_size,
                                        translate, translate_folder)
from tfstyle.errors import ImageError, OptionError, WeightsError
from tfstyle.io import save_image


class Identity(keras.Model):
    """Returns its input; `size_multiple` as asked. With `mirror=True` it flips the image left to right."""

    def __init__(self, multiple=8, mirror=False):
        inputs = keras.Input((None, None, 3))
        if mirror:
            outputs = keras.layers.Lambda(lambda x: ops.flip(x, axis=2))(inputs)
        else:
            outputs = keras.layers.Identity()(inputs)
        super().__init__(inputs, outputs)
        self.multiple = multiple

    @property
    def size_multiple(self):
        return self.multiple


def smooth_image(height, width, seed):
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:height, 0:width] / max(height, width)
    phase = rng.uniform(0, 6, 3)
    image = np.stack([np.sin(7 * xx + phase[k]) * np.cos(5 * yy - phase[k]) for k in range(3)], axis=-1)
    return np.clip(0.5 + 0.3 * image + rng.normal(0, 0.03, image.shape), 0, 1).astype(np.float32)


@pytest.fixture(scope="module")
def generators(tmp_path_factory):
    """{"resnet": path, "unet": path} of tiny exported generators, and the models."""
    folder = tmp_path_factory.mktemp("generators")
    keras.utils.set_random_seed(5)
    models = {"resnet": build_generator("resnet", blocks=1, filters=4),
              "unet": build_generator("unet", depth=3, filters=4)}
    paths = {name: export_generator(model, folder / f"{name}.keras", steps=7)[0] for name, model in models.items()}
    return paths, models


# --- padding and the value mapping ---------------------------------------------------------------------------------

def test_pad_to_size_reflects_centred_and_falls_back_to_symmetric():
    row = np.array([10, 20, 30, 40, 50], np.float32).reshape(1, 1, 5, 1)
    padded, (top, left) = pad_to_size(row, (1, 8))
    assert (top, left) == (0, 1)
    np.testing.assert_array_equal(padded.ravel(), [20, 10, 20, 30, 40, 50, 40, 30])
    # a pad as large as the side cannot be a reflection: mirror tiling that repeats the border pixel
    padded, (_, left) = pad_to_size(np.array([10, 20], np.float32).reshape(1, 1, 2, 1), (1, 8))
    assert left == 3
    np.testing.assert_array_equal(padded.ravel(), [20, 20, 10, 10, 20, 20, 10, 10])
    # each axis on its own: rows reflect (pads 1 and 2 < 5), columns of a 1-pixel side are constant
    column = np.arange(5, dtype=np.float32).reshape(1, 5, 1, 1)
    padded, (top, left) = pad_to_size(column, (8, 4))
    assert (top, left) == (1, 1) and padded.shape == (1, 8, 4, 1)
    np.testing.assert_array_equal(padded[0, :, 0, 0], [1, 0, 1, 2, 3, 4, 3, 2])
    np.testing.assert_array_equal(padded[0, :, :, 0], np.repeat(padded[0, :, :1, 0], 4, axis=1))


@pytest.mark.parametrize("size", [(37, 53), (5, 7), (1, 1), (16, 8)])
def test_identity_generator_returns_the_input_exactly(size):
    image = smooth_image(*size, seed=1)
    image[0, 0] = (0.0, 1.0, 0.5)  # the ends of the range survive the [0, 1] → [-1, 1] → [0, 1] round trip
    result = translate(Identity(8), image)
    assert result.shape == image.shape and result.dtype == np.float32
    np.testing.assert_allclose(result, image, atol=1e-6)
    assert tuple(result[0, 0]) == (0.0, 1.0, 0.5)


def test_generator_sees_the_image_reflected_and_centred():
    row = np.array([0.1, 0.2, 0.3, 0.4, 0.5], np.float32)
    image = np.repeat(np.repeat(row[None, :, None], 3, axis=2), 2, axis=0)  # 2 × 5
    result = translate(Identity(8, mirror=True), image)
    # padded row (1 left, 2 right): .2 .1 .2 .3 .4 .5 .4 .3; mirrored: .3 .4 .5 .4 .3 .2 .1 .2; cropped [1:6]
    np.testing.assert_allclose(result[0, :, 0], [0.4, 0.5, 0.4, 0.3, 0.2], atol=1e-6)


def test_outputs_are_clipped_to_the_unit_range():
    inputs = keras.Input((None, None, 3))
    doubled = keras.Model(inputs, keras.layers.Rescaling(3.0)(inputs))
    result = translate(doubled, np.array([[[0.0, 0.5, 1.0]]], np.float32))
    np.testing.assert_allclose(result.ravel(), [0.0, 0.5, 1.0], atol=1e-6)


# --- real generators -----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["resnet", "unet"])
def test_odd_and_tiny_sizes_come_back_the_same_size_with_one_trace(generators, name):
    _, models = generators
    translator = Translator(models[name])
    for size in [(37, 53), (5, 7), (1, 1)]:
        result = translator(smooth_image(*size, seed=2))
        assert result.shape == (*size, 3) and result.dtype == np.float32
        assert 0.0 <= result.min() and result.max() <= 1.0
    assert translator.traces == 1
    assert Translator(models[name]).traces == 1  # the trace is kept per model


def test_padded_sizes_follow_the_size_multiple_and_the_smallest_side(generators):
    _, models = generators
    resnet, unet = Translator(models["resnet"]), Translator(models["unet"])
    assert (resnet.multiple, resnet.min_side, unet.multiple, unet.min_side) == (4, 8, 8, 8)
    assert resnet.padded_size(37, 53) == (40, 56) and resnet.padded_size(5, 7) == (8, 8)
    assert unet.padded_size(37, 53) == (40, 56) and unet.padded_size(9, 1) == (16, 8)


def test_lists_and_batches_equal_single_images(generators):
    _, models = generators
    images = [smooth_image(12, 20, 3), smooth_image(9, 9, 4), smooth_image(12, 20, 5)]
    singles = [translate(models["unet"], image) for image in images]
    listed = translate(models["unet"], images, batch_size=2)
    assert isinstance(listed, list) and [r.shape for r in listed] == [(12, 20, 3), (9, 9, 3), (12, 20, 3)]
    for single, result in zip(singles, listed):
        np.testing.assert_allclose(result, single, atol=1e-5)
    batch = translate(models["unet"], np.stack([images[0], images[2]]), batch_size=2)
    assert batch.shape == (2, 12, 20, 3)
    np.testing.assert_allclose(batch[1], singles[2], atol=1e-5)


def test_max_size_downscales_first(generators):
    _, models = generators
    assert translate(models["resnet"], smooth_image(30, 60, 6), max_size=20).shape == (10, 20, 3)


def test_max_pixels_refuses_large_images_and_caps_batches(monkeypatch):
    translator = Translator(Identity(8), max_pixels=1000, batch_size=8)
    with pytest.raises(ImageError) as info:
        translator(np.zeros((30, 33, 3), np.float32))
    assert str(info.value) == ("image too large to translate: 33x30 pixels (40x32 padded) exceeds max_pixels=1000, "
                               "which keeps the generator's memory in bounds; downscale it with max_size "
                               "(--max-size) or raise the limit with max_pixels (--max-pixels, 0 for none)")
    assert translator.batch_limit(16, 16) == 3 and translator.batch_limit(1, 1) == 8
    assert Translator(Identity(8), max_pixels=None)(np.zeros((30, 33, 3), np.float32)).shape == (30, 33, 3)
    assert Translator(Identity(8)).max_pixels == DEFAULT_MAX_PIXELS
    monkeypatch.setenv(MAX_PIXELS_ENV, "64")
    assert Translator(Identity(8)).max_pixels == 64
    assert Translator(Identity(8), max_pixels=100).max_pixels == 100  # an explicit value wins
    monkeypatch.setenv(MAX_PIXELS_ENV, "0")
    assert Translator(Identity(8)).max_pixels is None
    monkeypatch.setenv(MAX_PIXELS_ENV, "lots")
    with pytest.raises(OptionError, match=r"^TFSTYLE_TRANSLATE_MAX_PIXELS must be a whole number"):
        Translator(Identity(8))


@pytest.mark.parametrize("kwargs,message", [
    ({"batch_size": 0}, "batch_size must be a positive integer; Received: batch_size=0"),
    ({"max_size": 2.5}, "max_size must be a positive integer; Received: max_size=2.5"),
    ({"max_pixels": -1}, "max_pixels must be a whole number >= 0 or None; Received: max_pixels=-1"),
])
def test_bad_options_are_one_line_errors(kwargs, message):
    with pytest.raises(OptionError) as info:
        Translator(Identity(8), **kwargs)
    assert str(info.value) == message


def test_models_that_are_not_generators_are_refused():
    with pytest.raises(OptionError) as info:
        translate(42, np.zeros((4, 4, 3)))
    assert str(info.value) == ("a generator is a keras.Model, a Generator, a .keras file, a training work folder or "
                               "a shipped name; Received: int")
    dense = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)], name="dense")
    with pytest.raises(WeightsError) as info:
        translate(dense, np.zeros((4, 4, 3)))
    assert str(info.value) == ("not an image generator: model 'dense' maps (None, 4), (None, 2); a generator maps "
                               "images (batch, height, width, 3) to images (batch, height, width, 3)")


# --- finding and loading generators --------------------------------------------------------------------------------

def test_export_and_load_by_path(generators, tmp_path):
    paths, models = generators
    stored = json.loads(paths["unet"].with_suffix(".json").read_text())
    assert stored == {"generator": "unet", "size_multiple": 8, "steps": 7,
                      "options": {"name": "unet_generator", "depth": 3, "filters": 4, "max_filters": 512,
                                  "upsampling": "transpose", "norm": "instance", "attention": [], "dropout": 0.0,
                                  "dtype": None}}
    for source in (paths["unet"], str(paths["unet"].with_suffix(".json"))):
        generator = load_generator(source)
        assert isinstance(generator, Generator)
        assert (generator.name, generator.path, generator.size_multiple, generator.direction) == (
            str(paths["unet"]), paths["unet"], 8, None)
        assert generator.metadata == stored
        for a, b in zip(generator.model.weights, models["unet"].weights):
            np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    image = smooth_image(11, 13, 7)
    np.testing.assert_allclose(translate(paths["unet"], image), translate(models["unet"], image), atol=1e-6)
    # without its JSON a file still loads: the model knows its size multiple
    lone = tmp_path / "lone.keras"
    lone.write_bytes(paths["resnet"].read_bytes())
    generator = load_generator(lone)
    assert (generator.metadata, generator.size_multiple) == ({}, 4)


def test_export_refuses_bad_paths_and_contradicting_metadata(generators, tmp_path):
    _, models = generators
    cases = [
        ((tmp_path / "g.h5",), {}, f"a generator file must end in .keras; Received: path='{tmp_path / 'g.h5'}'"),
        ((tmp_path / "no" / "g.keras",), {}, f"output folder does not exist: {tmp_path / 'no'}"),
        ((tmp_path / "g.keras",), {"options": {}},
         "metadata keys options describe the network and are taken from the model"),
        ((tmp_path / "g.keras",), {"size_multiple": 8}, "the model's size_multiple is 4; Received: size_multiple=8"),
    ]
    for args, metadata, message in cases:
        with pytest.raises(OptionError) as info:
            export_generator(models["resnet"], *args, **metadata)
        assert str(info.value) == message
    assert sorted(path.name for path in tmp_path.iterdir()) == []


def test_training_work_folder_and_direction(generators, tmp_path):
    paths, _ = generators
    (tmp_path / "generator_ab.keras").write_bytes(paths["resnet"].read_bytes())
    (tmp_path / "generator_ba.keras").write_bytes(paths["unet"].read_bytes())
    metadata = {"generator": "resnet", "options": {"blocks": 1}, "objective": "lsgan", "steps": 3, "crop_size": 64,
                "size_multiple": 4}
    (tmp_path / "generators.json").write_text(json.dumps(metadata))
    forward = load_generator(tmp_path)
    assert (forward.path, forward.direction, forward.metadata, forward.size_multiple) == (
        tmp_path / "generator_ab.keras", "ab", metadata, 4)
    backward = load_generator(str(tmp_path), direction="ba")
    assert (backward.path.name, backward.direction, backward.size_multiple) == ("generator_ba.keras", "ba", 8)
    # a work folder's file named directly gets the folder's metadata and its direction
    assert find_generator(tmp_path / "generator_ba.keras") == (tmp_path / "generator_ba.keras",
                                                               tmp_path / "generators.json", "ba")
    with pytest.raises(OptionError) as info:
        load_generator(tmp_path / "generator_ab.keras", direction="ba")
    assert str(info.value) == (f"direction picks a generator of a training work folder; "
                               f"{tmp_path / 'generator_ab.keras'} is one generator file; Received: direction='ba'")
    with pytest.raises(OptionError) as info:
        load_generator(tmp_path, direction="up")
    assert str(info.value) == "direction must be one of ab, ba; Received: direction='up'"
    (tmp_path / "generator_ba.keras").unlink()
    with pytest.raises(WeightsError) as info:
        load_generator(tmp_path, direction="ba")
    assert str(info.value) == (f"generator file not found: {tmp_path / 'generator_ba.keras'} (a `tfstyle "
                               f"train-cyclegan` work folder holds generator_ab.keras and generator_ba.keras)")


def test_file_errors_are_one_line(generators, tmp_path):
    paths, _ = generators
    (tmp_path / "junk.keras").write_bytes(b"not a zip")
    with zipfile.ZipFile(tmp_path / "foreign.keras", "w") as archive:
        archive.writestr("notes.txt", "hello")
    (tmp_path / "meta.keras").write_bytes(paths["resnet"].read_bytes())
    (tmp_path / "meta.json").write_text("[1, 2]")
    (tmp_path / "g.h5").write_bytes(b"")
    inputs = keras.Input((None, None, 3))
    keras.Model(inputs, keras.layers.Conv2D(1, 3)(inputs)).save(tmp_path / "critic.keras")
    cases = [
        (tmp_path / "missing.keras", f"generator file not found: {tmp_path / 'missing.keras'}"),
        (tmp_path / "run", f"generator not found: {tmp_path / 'run'} (give a .keras file, a `tfstyle "
                           f"train-cyclegan` work folder or the name of a shipped generator)"),
        (tmp_path / "g.h5", f"a generator file ends in .keras (or give a training work folder); "
                            f"Received: {tmp_path / 'g.h5'}"),
        (tmp_path / "junk.keras", f"not a .keras file (not a zip archive): {tmp_path / 'junk.keras'}"),
        (tmp_path / "meta.keras", f"generator metadata {tmp_path / 'meta.json'} must hold a JSON object; "
                                  f"Received: list"),
        (tmp_path / "critic.keras", f"not an image generator: {tmp_path / 'critic.keras'} maps (None, None, None, "
                                    f"3), (None, None, None, 1); a generator maps images (batch, height, width, 3) "
                                    f"to images (batch, height, width, 3)"),
    ]
    for source, message in cases:
        with pytest.raises(WeightsError) as info:
            load_generator(source)
        assert str(info.value) == message
    with pytest.raises(WeightsError, match=r"^cannot load generator .*foreign\.keras: "):
        load_generator(tmp_path / "foreign.keras")


def test_safe_mode_refuses_a_lambda_layer(tmp_path):
    inputs = keras.Input((None, None, 3))
    keras.Model(inputs, keras.layers.Lambda(lambda x: ops.flip(x, axis=2))(inputs)).save(tmp_path / "lambda.keras")
    with pytest.raises(WeightsError) as info:
        load_generator(tmp_path / "lambda.keras")
    assert str(info.value) == (f"Keras safe mode refuses to load {tmp_path / 'lambda.keras'}: it holds Python code "
                               f"(a Lambda layer); load it with keras.saving.load_model(path, safe_mode=False) only "
                               f"if you trust its source")


def test_shipped_generator_by_name(generators, tmp_path, monkeypatch):
    paths, models = generators
    monkeypatch.setattr(pretrained, "WEIGHTS_DIR", tmp_path)
    assert available_generators() == []
    with pytest.raises(WeightsError) as info:
        load_generator("sketch")
    assert str(info.value) == (f"no shipped CycleGAN generator named 'sketch' in {tmp_path} (none is installed); "
                               f"train one with `tfstyle train-cyclegan` and pass its work folder or .keras file")
    model_path, metadata_path = pretrained.shipped_files("sketch")
    assert (model_path.name, metadata_path.name) == ("cyclegan_sketch_generator.keras",
                                                     "cyclegan_sketch_generator.json")
    export_generator(models["resnet"], model_path, steps=100, data="photos / sketches")
    (tmp_path / "cyclegan_half_generator.keras").write_bytes(b"")  # no JSON: not listed
    assert available_generators() == ["sketch"]
    generator = load_generator("sketch")
    assert (generator.name, generator.size_multiple, generator.metadata["data"]) == ("sketch", 4,
                                                                                     "photos / sketches")
    with pytest.raises(WeightsError) as info:
        load_generator("ink")
    assert str(info.value) == (f"no shipped CycleGAN generator named 'ink' in {tmp_path} (available: sketch); "
                               f"train one with `tfstyle train-cyclegan` and pass its work folder or .keras file")
    with pytest.raises(OptionError) as info:
        load_generator("sketch", direction="ab")
    assert str(info.value) == ("direction picks a generator of a training work folder; the shipped generator "
                               "'sketch' has one direction; Received: direction='ab'")
    with pytest.raises(OptionError, match=r"^a generator is a shipped name \(letters, digits, _ \. -\)"):
        load_generator("-x")


def test_the_package_weights_folder_is_tfstyle_weights():
    assert pretrained.WEIGHTS_DIR.name == "weights" and pretrained.WEIGHTS_DIR.parent.name == "tfstyle"


# --- folders -------------------------------------------------------------------------------------------------------

@pytest.fixture
def photos(tmp_path):
    folder = tmp_path / "photos"
    folder.mkdir()
    save_image(folder / "b10.jpg", smooth_image(20, 30, 1))
    save_image(folder / "b2.png", smooth_image(20, 30, 2))
    save_image(folder / "c.png", smooth_image(9, 11, 3))
    Image.fromarray(np.uint8(smooth_image(9, 11, 4) * 255)).save(folder / "d.gif")
    (folder / "notes.txt").write_text("not an image\n")
    (folder / ".hidden.png").write_bytes(b"")
    (tmp_path / "out").mkdir()
    return folder


def test_folder_names_outputs_after_inputs_and_counts_unreadable_files(generators, photos):
    paths, _ = generators
    out = photos.parent / "out"
    reports = []
    result = translate_folder(paths["resnet"], photos, out, batch_size=2,
                              callback=lambda *report: reports.append(report))
    assert [(s.name, o.name) for s, o in result.outputs] == [("b2.png", "b2.png"), ("b10.jpg", "b10.jpg"),
                                                             ("c.png", "c.png"), ("d.gif", "d.png")]
    reason = f"not an image (Pillow cannot identify it): {photos / 'notes.txt'}"
    assert result.skipped == [(photos / "notes.txt", reason)]
    assert result.written == 4 and len(reports) == 5
    assert result.summary() == f"4 images translated, 1 skipped: {reason}"
    assert sorted(path.name for path in out.iterdir()) == ["b10.jpg", "b2.png", "c.png", "d.png"]
    with Image.open(out / "c.png") as image:
        assert image.size == (11, 9)


def test_folder_format_recursion_and_never_replacing_inputs(photos):
    out = photos.parent / "out"
    (photos / "sub").mkdir()
    save_image(photos / "sub" / "e.png", smooth_image(8, 8, 5))
    result = translate_folder(Identity(8), photos, out, extension="png", recursive=True)
    assert sorted(path.relative_to(out).as_posix() for path in out.rglob("*")) == [
        "b10.png", "b2.png", "c.png", "d.png", "sub", "sub/e.png"]
    assert len(result.skipped) == 1
    with pytest.raises(ImageError) as info:  # into the input folder in the inputs' own formats
        translate_folder(Identity(8), photos, photos)
    assert str(info.value) == (f"the output would replace an input: {photos / 'b2.png'}; choose another output "
                               f"folder or format")
    before = sorted(path.name for path in photos.iterdir())
    result = translate_folder(Identity(8), [photos / "b10.jpg"], photos, extension=".webp")  # a new file is fine
    assert [o.name for _, o in result.outputs] == ["b10.webp"]
    assert sorted(path.name for path in photos.iterdir()) == sorted(before + ["b10.webp"])


def test_folder_errors(photos, tmp_path):
    cases = [
        ((photos, tmp_path / "missing"), {}, f"output folder does not exist: {tmp_path / 'missing'}"),
        ((photos, tmp_path / "out"), {"extension": ".xyz"},
         "unsupported output format '.xyz' (use .png, .jpg, .jpeg, .webp, .bmp, .tif, .tiff)"),
        (([photos / "none.png"], tmp_path / "out"), {}, f"image not found: {photos / 'none.png'}"),
    ]
    (tmp_path / "empty").mkdir()
    cases.append(((tmp_path / "empty", tmp_path / "out"), {}, f"no files to translate in {tmp_path / 'empty'}"))
    for args, kwargs, message in cases:
        with pytest.raises(ImageError) as info:
            translate_folder(Identity(8), *args, **kwargs)
        assert str(info.value) == message
    assert list((tmp_path / "out").iterdir()) == []


def test_output_names_stay_unique():
    import pathlib

    sources = [(None, pathlib.PurePath(name)) for name in ("a.png", "a.gif", "x/a.jpg", "a.tga", "A.png")]
    names = [name.as_posix() for name in output_names(sources)]
    assert names == ["a.png", "a_gif.png", "x/a.jpg", "a_tga.png", "A_png.png"]
    assert [name.as_posix() for name in output_names(sources[:2], ".jpg")] == ["a.jpg", "a_gif.jpg"]
