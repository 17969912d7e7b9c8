"""scripts/cyclegan_comparison.py: the whole pipeline on a tiny generated benchmark, and its report logic.

The end-to-end test runs `main([... --quick])` with one variant (ResNet + LSGAN): benchmark → calibration → training
→ evaluation → report, then a rerun that must reuse the calibration and skip the finished run. Tracing a CycleGAN
step dominates its time (about 10 s per trace here, twice per variant: calibration and training), so the four
variants together run only in the slow test. The report's wording and scores are checked on made-up numbers.
"""

import importlib.util
import json
import pathlib

import numpy as np
import pytest

from tfstyle import save_image

SCRIPT = pathlib.Path(__file__).resolve().parents[1] / "scripts" / "cyclegan_comparison.py"


@pytest.fixture(scope="module")
def script():
    spec = importlib.util.spec_from_file_location("cyclegan_comparison", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def smooth_photo(height, width, seed):
    """A photo-like test image: smooth colour fields with a few hard-edged rectangles (so the filters draw lines)."""
    from scipy import ndimage

    rng = np.random.default_rng(seed)
    image = ndimage.gaussian_filter(rng.random((height, width, 3)), (4, 4, 0))
    image = (image - image.min()) / (image.max() - image.min())
    for _ in range(3):
        top, left = rng.integers(0, height - 12), rng.integers(0, width - 12)
        image[top:top + 12, left:left + 12] = rng.random(3)
    return image.astype(np.float32)


@pytest.fixture(scope="module")
def photos(tmp_path_factory):
    folder = tmp_path_factory.mktemp("photos")
    for index in range(5):
        save_image(folder / f"p{index}.png", smooth_photo(56 + 4 * index, 72, index))
    return folder


def quick_args(photos, out, docs, *extra):
    return ["--out", str(out), "--filters", "sketch", "--quick", "--photos", str(photos), "--skimage", "none",
            "--docs", str(docs), "--no-progress", *extra]


@pytest.fixture(scope="module")
def quick_run(script, photos, tmp_path_factory):
    root = tmp_path_factory.mktemp("comparison")
    args = quick_args(photos, root / "out", root / "docs", "--variants", "resnet_lsgan")
    assert script.main(args) == 0
    return root, args


def test_quick_run_calibrates_trains_scores_and_writes_the_page(script, quick_run):
    root, _ = quick_run
    out, docs = root / "out", root / "docs"
    calibration = json.loads((out / "calibration.json").read_text())
    assert list(calibration["steps"]) == ["resnet_lsgan"]
    assert calibration["steps"]["resnet_lsgan"] >= 5  # at least --critic-steps
    assert len(calibration["chunks"]["resnet_lsgan"]) == 1 and calibration["seconds_per_step"]["resnet_lsgan"] > 0
    assert calibration["chunk_steps"] == {"resnet_lsgan": 5}  # --quick: one critic cycle
    record = json.loads((out / "sketch" / "runs" / "resnet_lsgan" / "comparison.json").read_text())
    assert (record["status"], record["steps"]) == ("done", calibration["steps"]["resnet_lsgan"])
    assert record["history"]["step"][-1] == record["steps"]

    results = json.loads((out / "results.json").read_text())
    scores = results["filters"]["sketch"]["scores"]
    assert sorted(scores) == ["identity", "oracle", "resnet_lsgan"]
    low, high = scores["resnet_lsgan"]["range"]
    assert 0.0 <= low < high <= 1.0
    assert scores["oracle"]["psnr"] is None and scores["oracle"]["ssim"] == pytest.approx(1.0)
    assert scores["identity"]["content_match"] == 1.0 and scores["oracle"]["colour_error"] == pytest.approx(0.0)

    page = (docs / "cyclegan_comparison.md").read_text()
    assert "| ResNet + LSGAN (CycleGAN) | " in page and "| oracle (the filter itself) | " in page
    assert "python scripts/cyclegan_comparison.py --out" in page
    assert "Survey finding" in page and "not checked" in page  # no WGAN-GP run to compare with
    assert "## Summary" in page and "| filter | best PSNR |" in page
    for name in ("cyclegan_sketch_grid.jpg", "cyclegan_sketch_losses.png"):
        assert name in page
        assert 0 < (docs / "images" / name).stat().st_size < script.MAX_IMAGE_BYTES


def test_rerun_reuses_the_calibration_and_skips_finished_runs(script, quick_run):
    root, args = quick_run
    out = root / "out"
    calibration = (out / "calibration.json").read_text()
    assert script.main(args) == 0
    assert (out / "calibration.json").read_text() == calibration
    record = json.loads((out / "sketch" / "runs" / "resnet_lsgan" / "comparison.json").read_text())
    assert len(record["calls"]) == 1  # not trained again


def test_other_settings_are_refused_for_a_calibrated_folder(script, quick_run, capsys):
    root, args = quick_run
    assert script.main([*args, "--minutes", "0.5"]) == 2
    assert "calibrated with other settings (minutes differ)" in capsys.readouterr().err


def test_bad_options(script, tmp_path, capsys):
    assert script.main(["--out", str(tmp_path), "--crop-size", "48", "--unet-depth", "5"]) == 2
    assert "--crop-size 48 is not a multiple of 2^unet_depth = 32" in capsys.readouterr().err
    assert script.main(["--out", str(tmp_path), "--minutes", "0"]) == 2
    assert "--minutes must be > 0; Received: 0.0" in capsys.readouterr().err
    assert script.main(["--out", str(tmp_path), "--filters", "pencil"]) == 2
    assert "unknown filters pencil; choose from sketch, ink" in capsys.readouterr().err


# --- report logic on made-up numbers -----------------------------------------------------------------------------


def test_content_match_golden_values(script):
    photos = np.eye(3)
    assert script.content_match(photos, photos) == 1.0
    # output i is exactly photo i+1: its own photo is never the nearer, and ties with the third one
    assert script.content_match(photos[[1, 2, 0]], photos) == pytest.approx(0.25)


def test_paired_difference_and_grid_rows(script):
    mean, error = script.paired_difference([3.0, 5.0, 7.0], [1.0, 2.0, 3.0])
    assert mean == pytest.approx(3.0) and error == pytest.approx(1.0 / np.sqrt(3))
    assert script.grid_rows(120) == [0, 24, 48, 71, 95, 119]
    assert script.grid_rows(3) == [0, 1, 2]


def made_up_result(script, cyclegan_colour, wgan_colour, n=20):
    rng = np.random.default_rng(0)
    noise = rng.normal(0, 0.01, n)
    noise -= noise.mean()
    per_image = {
        "resnet_lsgan": {"psnr": 14.0 + noise, "ssim": 0.4001 + noise, "colour_error": cyclegan_colour + noise},
        # SSIM: the same values in another order, 0.0001 lower: a tie that LSGAN leads
        "resnet_wgangp": {"psnr": 12.0 + noise, "ssim": 0.4 + noise[::-1], "colour_error": wgan_colour + noise},
    }
    scores = {name: {"psnr": float(values["psnr"].mean()), "ssim": float(values["ssim"].mean()),
                     "colour_error": float(values["colour_error"].mean())} for name, values in per_image.items()}
    scores["resnet_lsgan"].update(kid=0.30, kid_std=0.02, content_match=0.85)
    scores["resnet_wgangp"].update(kid=0.50, kid_std=0.02, content_match=0.80)
    scores["identity"] = {"psnr": 10.0, "ssim": 0.30, "kid": 0.80, "kid_std": 0.02, "content_match": 1.0,
                          "colour_error": 20.0}
    scores["oracle"] = {"psnr": None, "ssim": 1.0, "kid": -0.05, "kid_std": 0.01, "content_match": 0.9,
                        "colour_error": 0.0}
    return {"scores": scores, "per_image": per_image}


def test_results_paragraph_is_written_from_the_numbers(script):
    variants = script.build_variants(script.make_settings(script.parse_args(["--out", "x"])),
                                     ["resnet_lsgan", "resnet_wgangp"])
    text = script.describe("sketch", made_up_result(script, 5.0, 9.0), variants, None)
    assert text.startswith("Best PSNR: ResNet + LSGAN (CycleGAN) (14.00 dB), 2.00 dB above ResNet + WGAN-GP "
                           "(more than twice the paired standard error")
    assert "Best SSIM: ResNet + LSGAN (CycleGAN) (0.400), 0.000 above ResNet + WGAN-GP (within twice" in text
    assert "Best KID: ResNet + LSGAN (CycleGAN) (0.300), 0.200 below ResNet + WGAN-GP (more than" in text
    assert "leads on all three scores, but not clearly on every one." in text
    assert "2 of 2 variants are closer to the ground truth on PSNR, 2 on SSIM and 2 on KID." in text
    assert "The best KID closes 59% of the distance" in text


def test_summary_table_names_the_leaders_and_the_ties(script):
    variants = script.build_variants(script.make_settings(script.parse_args(["--out", "x"])),
                                     ["resnet_lsgan", "resnet_wgangp"])
    far = made_up_result(script, 9.0, 5.0)
    far["scores"]["resnet_lsgan"]["kid"] = far["scores"]["resnet_wgangp"]["kid"] = 0.9  # both worse than the photo
    lines = script.summary({"sketch": made_up_result(script, 5.0, 9.0), "ink": far}, variants)
    assert lines[:2] == ["## Summary", ""]
    table = lines[2].splitlines()
    assert table[0] == ("| filter | best PSNR | best SSIM | best KID | KID vs the unchanged photo | survey finding |")
    assert table[2] == ("| sketch | ResNet + LSGAN (CycleGAN) (14.00 dB) | ResNet + LSGAN (CycleGAN) (0.400), a tie "
                        "with ResNet + WGAN-GP | ResNet + LSGAN (CycleGAN) (0.300) | 59% of the way to the filter "
                        "| holds |")
    assert table[3].startswith("| ink | ResNet + LSGAN (CycleGAN) (14.00 dB) |")
    assert table[3].endswith("| all farther than the photo | holds in part |")
    assert script.summary({"sketch": {"scores": {"identity": {}, "oracle": {}}, "per_image": {}}}, variants) == []


def test_runs_far_from_the_target_are_called_so(script):
    variants = script.build_variants(script.make_settings(script.parse_args(["--out", "x"])),
                                     ["resnet_lsgan", "resnet_wgangp"])
    result = made_up_result(script, 5.0, 9.0)
    result["scores"]["resnet_lsgan"]["kid"] = 0.9  # worse than the unchanged photo
    result["scores"]["resnet_wgangp"]["kid"] = 0.75  # closes 6% of the way to the filter
    text = script.describe("sketch", result, variants, None)
    assert "The best KID closes 6% of the distance" in text
    assert text.endswith("at this training time the ranking says little about the methods.")
    assert script.survey_check("sketch", result)[1].endswith("checks the procedure more than the methods.")


@pytest.mark.parametrize("cyclegan_colour, wgan_colour, verdict, phrase", [
    (5.0, 9.0, "holds", "CycleGAN's colours are closer to the target"),
    (9.0, 5.0, "holds in part", "WGAN-GP's colours are closer to the target"),
    (5.0, 5.0, "holds in part", "no clear difference"),
])
def test_survey_check(script, cyclegan_colour, wgan_colour, verdict, phrase):
    found, text = script.survey_check("sketch", made_up_result(script, cyclegan_colour, wgan_colour))
    assert found == verdict
    assert phrase in text
    assert "content match 0.850 (CycleGAN) and 0.800 (WGAN-GP): both at least 0.700, so both keep the content" in text


def test_loss_curves_of_all_four_variants(script, tmp_path):
    variants = script.build_variants(script.make_settings(script.parse_args(["--out", "x"])))
    steps = [10, 20, 30]
    history = {key: [1.0, 0.8, 0.6] for key in ("adv_ab", "adv_ba", "cycle_a", "cycle_b", "d_a", "d_b",
                                                 "gp_a", "gp_b")}
    records = {variant.name: {"history": {"step": steps, **history}} for variant in variants}
    path = script.plot_losses(tmp_path / "losses.png", records, variants)
    assert 0 < path.stat().st_size < script.MAX_IMAGE_BYTES


@pytest.mark.slow
def test_quick_run_of_all_four_variants(script, photos, tmp_path):
    args = quick_args(photos, tmp_path / "out", tmp_path / "docs")
    assert script.main(args) == 0
    scores = json.loads((tmp_path / "out" / "results.json").read_text())["filters"]["sketch"]["scores"]
    assert all(scores[name] is not None for name in script.VARIANTS)
    page = (tmp_path / "docs" / "cyclegan_comparison.md").read_text()
    assert all(f"| {label} | " in page for label in script.LABELS.values())
