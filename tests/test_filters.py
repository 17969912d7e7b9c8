"""tfstyle.filters (golden values, size awareness, bad input) and scripts/make_unpaired_benchmark.py on tiny photos."""

import importlib.util
import json
import pathlib

import numpy as np
import pytest

from tfstyle import filters, save_image
from tfstyle.errors import ImageError, OptionError
from tfstyle.io import load_image, resize_image

SCRIPT = pathlib.Path(__file__).resolve().parents[1] / "scripts" / "make_unpaired_benchmark.py"


def photo(height, width, seed=0, noise=0.02):
    """A smooth colour image with a dark disk and some pixel noise: edges, flat parts and texture."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:height, 0:width] / max(height, width)
    base = np.stack([0.5 + 0.3 * np.sin(4 * xx + k) * np.cos(3 * yy - k) for k in range(3)], axis=-1)
    base[(yy - 0.5) ** 2 + (xx - 0.45) ** 2 < 0.05] *= 0.3
    return np.clip(base + rng.normal(0, noise, base.shape), 0, 1).astype(np.float32)


def step(size=64, left=1.0, right=0.7):
    """Bright left half, darker right half: a vertical edge between columns size/2 − 1 and size/2."""
    image = np.full((size, size, 3), left, np.float32)
    image[:, size // 2:] = right
    return image


# --- shape, range, determinism -------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", filters.FILTERS)
def test_output_shape_dtype_and_range(name):
    image = photo(40, 56)
    out = filters.get_filter(name)(image)
    assert out.shape == image.shape and out.dtype == np.float32
    assert 0.0 <= out.min() and out.max() <= 1.0
    assert np.abs(out - image).mean() > 0.1  # it does change the photo


@pytest.mark.parametrize("name", filters.FILTERS)
def test_deterministic_and_batch_equals_per_image(name):
    function = filters.get_filter(name)
    batch = np.stack([photo(48, 48, seed) for seed in range(3)])
    out = function(batch)
    assert out.shape == batch.shape
    np.testing.assert_array_equal(out, function(batch))
    for image, expected in zip(batch, out):
        np.testing.assert_array_equal(function(image), expected)


@pytest.mark.parametrize("name", filters.FILTERS)
def test_uint8_input_is_divided_by_255_and_input_is_not_modified(name):
    image = (photo(32, 32) * 255).round().astype(np.uint8)
    copy = image.copy()
    function = filters.get_filter(name)
    np.testing.assert_allclose(function(image), function(image / 255.0), atol=1e-6)
    np.testing.assert_array_equal(image, copy)


def test_sketch_is_gray():
    out = filters.pencil_sketch(photo(32, 40))
    np.testing.assert_array_equal(out[..., 0], out[..., 1])
    np.testing.assert_array_equal(out[..., 0], out[..., 2])


# --- golden values -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("level", [0.0, 0.2, 0.5, 0.9, 1.0])
def test_sketch_of_a_flat_image_is_white_paper_with_the_shading_tone(level):
    flat = np.full((24, 32, 3), level, np.float32)
    np.testing.assert_allclose(filters.pencil_sketch(flat, shading=0.0), 1.0, atol=1e-6)
    # the dodge is exactly 1; only the graphite tone 1 − shading·(1 − g), g = lift + (1 − lift)·level, remains
    g = 0.1 + 0.9 * level
    np.testing.assert_allclose(filters.pencil_sketch(flat), 1.0 - 0.35 * (1.0 - g), atol=1e-6)


def test_sketch_draws_a_dark_line_on_the_dark_side_of_an_edge():
    out = filters.pencil_sketch(step(64), shading=0.0)[32, :, 0]
    assert out[:28].min() == pytest.approx(1.0)  # the bright side stays paper
    assert out[63] > 0.95  # far on the dark side: paper again
    assert int(np.argmin(out)) == 32  # the line sits at the first dark column
    assert out[32] < 0.8


def test_ink_of_flat_images_is_paper_and_flat_wash():
    paper, ink = np.array(filters.PAPER), np.array(filters.INK)
    np.testing.assert_allclose(filters.ink_wash(np.ones((24, 24, 3))), np.broadcast_to(paper, (24, 24, 3)),
                               atol=1e-6)
    # black: density 1 → wash 0.75, no strokes (the difference of Gaussians of a constant is 0)
    np.testing.assert_allclose(filters.ink_wash(np.zeros((24, 24, 3))),
                               np.broadcast_to(ink + (paper - ink) * 0.25, (24, 24, 3)), atol=1e-6)


def test_ink_draws_a_dark_stroke_at_an_edge_on_paper():
    out = filters.ink_wash(step(64))
    row = out[32, :, 0]
    assert row[:20].min() == pytest.approx(filters.PAPER[0], abs=1e-6)
    assert row[44:].min() == pytest.approx(filters.PAPER[0], abs=1e-6)  # 0.7 is lighter than the white point
    assert 30 <= int(np.argmin(row)) <= 33 and row.min() < 0.4
    np.testing.assert_allclose(out[:, 32], np.broadcast_to(out[0, 32], (64, 3)), atol=1e-6)  # on every row


def test_ink_paper_and_ink_colours():
    out = filters.ink_wash(photo(32, 32), paper=0.8, ink=(0.2, 0.0, 0.0))
    assert out[..., 0].max() <= 0.8 + 1e-6 and out[..., 0].min() >= 0.2 - 1e-6
    assert out[..., 1].min() >= 0.0 and out[..., 1].max() <= 0.8 + 1e-6


# --- size awareness ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", filters.FILTERS)
def test_spatial_parameters_scale_with_the_short_side(name):
    function = filters.get_filter(name)
    small, large = photo(64, 80, noise=0), photo(128, 160, noise=0)  # pixel noise would not scale
    relative = np.abs(resize_image(function(large), size=(64, 80)) - function(small)).mean()
    fixed = filters.get_filter(name, reference_size=None)
    absolute = np.abs(resize_image(fixed(large), size=(64, 80)) - fixed(small)).mean()
    assert relative < 0.5 * absolute


def test_reference_size_none_means_plain_pixels():
    image = photo(64, 96)
    np.testing.assert_array_equal(filters.pencil_sketch(image, sigma=2.0, reference_size=None),
                                  filters.pencil_sketch(image, sigma=2.0, reference_size=64))
    np.testing.assert_array_equal(filters.ink_wash(image, reference_size=None), filters.ink_wash(image,
                                                                                                  reference_size=64))


# --- registry ------------------------------------------------------------------------------------------------------


def test_get_filter_and_parameters():
    assert filters.FILTERS == ("sketch", "ink")
    assert filters.get_filter("sketch") is filters.pencil_sketch
    assert filters.get_filter("ink") is filters.ink_wash
    image = photo(32, 32)
    np.testing.assert_array_equal(filters.get_filter("sketch", sigma=5.0)(image),
                                  filters.pencil_sketch(image, sigma=5.0))
    assert filters.filter_parameters("sketch", sigma=5.0) == {"sigma": 5.0, "gamma": 2.0, "shading": 0.35,
                                                              "lift": 0.1, "reference_size": 128}
    assert filters.filter_parameters("ink")["paper"] == filters.PAPER


def test_unknown_filter_and_option():
    with pytest.raises(OptionError, match=r"^unknown filter 'pencil'; choose one of: sketch, ink$"):
        filters.get_filter("pencil")
    with pytest.raises(OptionError, match=r"^filter 'sketch' has no option levels; its options: sigma, gamma, "):
        filters.get_filter("sketch", levels=3)


# --- bad input -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("image, message", [
    (np.zeros((8, 8)), r"^filters take RGB images of shape \(H, W, 3\) or \(B, H, W, 3\); Received: shape \(8, 8\)$"),
    (np.zeros((8, 8, 4)), r"Received: shape \(8, 8, 4\)$"),
    (np.zeros((0, 8, 3)), r"Received: shape \(0, 8, 3\)$"),
    (np.zeros((8, 8, 3), np.int16), r"^filters take float \(in \[0, 1\]\) or uint8 images; Received: dtype int16$"),
    (np.full((8, 8, 3), np.nan), r"^filters take images of finite values"),
])
@pytest.mark.parametrize("name", filters.FILTERS)
def test_bad_images(name, image, message):
    with pytest.raises(ImageError, match=message):
        filters.get_filter(name)(image)


@pytest.mark.parametrize("name, options, message", [
    ("sketch", {"sigma": 0}, r"^sigma must be a number > 0; Received: sigma=0$"),
    ("sketch", {"gamma": 0.5}, r"^gamma must be a number ≥ 1; Received: gamma=0.5$"),
    ("sketch", {"shading": 1.5}, r"^shading must be a number ≥ 0 and ≤ 1; Received: shading=1.5$"),
    ("sketch", {"lift": 1.0}, r"^lift must be a number ≥ 0 and < 1; Received: lift=1.0$"),
    ("sketch", {"sigma": True}, r"^sigma must be a number > 0; Received: sigma=True$"),
    ("sketch", {"reference_size": 0}, r"^reference_size must be a positive integer or None; Received: "),
    ("ink", {"levels": 1}, r"^levels must be an integer ≥ 2; Received: levels=1$"),
    ("ink", {"levels": 2.5}, r"^levels must be an integer ≥ 2; Received: levels=2.5$"),
    ("ink", {"white_point": 1}, r"^white_point must be a number ≥ 0 and < 1; Received: white_point=1$"),
    ("ink", {"erosion": float("nan")}, r"^erosion must be a number ≥ 0; Received: erosion=nan$"),
    ("ink", {"paper": "white"}, r"^paper must be one gray value or an RGB triple in \[0, 1\]; Received: "
                                r"paper='white'$"),
    ("ink", {"ink": (0.1, 0.1)}, r"^ink must be one gray value or an RGB triple in \[0, 1\]; Received: "),
    ("ink", {"paper": 1.2}, r"^paper must be one gray value or an RGB triple"),
])
def test_bad_options(name, options, message):
    with pytest.raises(OptionError, match=message):
        filters.get_filter(name)(photo(16, 16), **options)


# --- the benchmark script ------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def script():
    spec = importlib.util.spec_from_file_location("make_unpaired_benchmark", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def photo_dir(tmp_path):
    folder = tmp_path / "photos"
    folder.mkdir()
    for index in range(5):
        save_image(folder / f"p{index}.png", photo(60 + 4 * index, 80, seed=index))
    return folder


def run(script, photo_dir, out, *extra):
    return script.main(["--photos", str(photo_dir), "--skimage", "none", "--out", str(out), "--crop-size", "32",
                        "--photo-size", "48", "--crops-per-photo", "3", "--test-photos", "1", *extra])


def test_script_builds_disjoint_splits_with_ground_truth(script, photo_dir, tmp_path):
    out = tmp_path / "bench"
    assert run(script, photo_dir, out, "--filter", "ink", "--filter-option", "levels=4") == 0
    manifest = json.loads((out / "manifest.json").read_text())
    splits = manifest["splits"]
    assert sorted(sum(splits.values(), [])) == [f"p{i}" for i in range(5)]  # every photo in exactly one split
    assert [len(splits[name]) for name in ("trainA", "trainB", "test")] == [2, 2, 1]
    assert manifest["counts"] == {"trainA": 6, "trainB": 6, "testA": 3, "testB": 3}
    parameters = json.loads(json.dumps(filters.filter_parameters("ink", levels=4)))  # tuples become lists
    assert manifest["filter"] == {"name": "ink", "parameters": parameters}
    for folder in ("trainA", "trainB"):
        assert {path.name.rsplit("_", 1)[0] for path in (out / folder).glob("*.png")} == set(splits[folder])
    names = sorted(path.name for path in (out / "testA").glob("*.png"))
    assert names == sorted(path.name for path in (out / "testB").glob("*.png"))
    for name in names:
        crop = load_image(out / "testA" / name)
        assert crop.shape == (32, 32, 3)
        truth = filters.ink_wash(crop, levels=4)  # the written crop is 8-bit: the filter of it is within rounding
        assert np.abs(load_image(out / "testB" / name) - truth).mean() < 0.01
        assert manifest["crops"][f"testA/{name}"]["window"] in (32, 48)


def test_script_is_deterministic_and_refuses_to_overwrite(script, photo_dir, tmp_path, capsys):
    first, second = tmp_path / "a", tmp_path / "b"
    assert run(script, photo_dir, first, "--seed", "3") == 0
    assert run(script, photo_dir, second, "--seed", "3") == 0
    for path in sorted(first.rglob("*.png")):
        assert path.read_bytes() == (second / path.relative_to(first)).read_bytes()
    assert json.loads((first / "manifest.json").read_text()) == json.loads((second / "manifest.json").read_text())
    capsys.readouterr()
    assert run(script, photo_dir, first) == 2
    assert "already holds a benchmark" in capsys.readouterr().err
    assert run(script, photo_dir, first, "--overwrite", "--seed", "4") == 0


def test_script_bad_options(script, photo_dir, tmp_path, capsys):
    assert run(script, photo_dir, tmp_path / "x", "--filter", "oil") == 2
    assert "unknown filter 'oil'; choose one of: sketch, ink" in capsys.readouterr().err
    assert run(script, photo_dir, tmp_path / "y", "--test-photos", "4") == 2
    assert "need at least one photo per split" in capsys.readouterr().err
    kept = tmp_path / "kept"
    assert run(script, photo_dir, kept) == 0
    assert run(script, photo_dir, kept, "--overwrite", "--filter-option", "sigma=-1") == 2
    assert capsys.readouterr().err == "error: sigma must be a number > 0; Received: sigma=-1\n"
    assert (kept / "manifest.json").exists() and len(list((kept / "trainA").glob("*.png"))) == 6
