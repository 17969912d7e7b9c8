"""The survey's experiments (`tfstyle.experiments`) and their scripts, on tiny images with random weights."""

import importlib.util
import pathlib

import numpy as np
import pytest

from tfstyle import experiments
from tfstyle.errors import WeightsError
from tfstyle.metrics import StyleMetrics

SCRIPTS = pathlib.Path(__file__).resolve().parents[1] / "scripts"
SCORE_KEYS = ["style_gram", "style_meanstd", "content_distance", "ssim", "seconds"]


def image(height, width, seed):
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:height, 0:width] / max(height, width)
    base = np.stack([np.sin(5 * xx + k) * np.cos(3 * yy - k) for k in range(3)], axis=-1) * 0.4 + 0.5
    return np.clip(base + rng.normal(0, 0.05, base.shape), 0, 1).astype(np.float32)


PAIRS = [(image(40, 48, 0), image(48, 48, 1)), (image(48, 40, 2), image(44, 48, 3))]


@pytest.fixture(scope="module")
def metrics():
    return StyleMetrics("vgg16", weights=None)


def grid_shape(n_rows, n_cols, cell=experiments.CELL):
    width = n_cols * (cell[0] + experiments.PAD) + experiments.PAD
    height = experiments.HEADER + n_rows * (experiments.ROW_LABEL + cell[1] + experiments.PAD) + experiments.PAD
    return (height, width, 3)


def load_script(name):
    spec = importlib.util.spec_from_file_location(f"script_{name}", SCRIPTS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_compare_backbones_rows_and_grid(metrics):
    result = experiments.compare_backbones(PAIRS, ["vgg16"], size=48, steps=2, weights=None, metrics=metrics,
                                           log=None)
    assert [(row["backbone"], row["status"]) for row in result.rows] == [
        ("(content image)", "baseline"), ("vgg16", "ran")] * 2
    assert list(result.rows[0]) == ["content", "style", "backbone", "status", *SCORE_KEYS]
    baseline, ran = result.rows[0], result.rows[1]
    assert baseline["content_distance"] == 0 and baseline["ssim"] == pytest.approx(1.0)
    assert all(isinstance(ran[key], float) for key in SCORE_KEYS)
    assert result.columns == ["content", "style", "vgg16"]
    assert result.row_labels == ["content image, style image"] * 2
    assert [len(row) for row in result.images] == [3, 3]
    assert result.images[0][2].shape == (40, 48, 3) and result.images[1][2].shape == (48, 40, 3)
    grid = result.grid()
    assert grid.shape == grid_shape(2, 3) and grid.dtype == np.float32
    assert result.info["metric_network"] == "vgg16[weights=None]"


def test_compare_backbones_skips_backbones_without_weights(metrics):
    lines = []
    result = experiments.compare_backbones(PAIRS[:1], ["vgg19", "resnet50"], size=48, steps=2, metrics=metrics,
                                           log=lines.append)
    assert lines == [f"{name}: skipped, no weights here (ImageNet weights not in the Keras cache and "
                     f"TFSTYLE_OFFLINE is set)" for name in ("vgg19", "resnet50")]
    assert [(row["backbone"], row["status"]) for row in result.rows] == [
        ("(content image)", "baseline"), ("vgg19", "no weights here"), ("resnet50", "no weights here")]
    assert all(result.rows[1][key] is None for key in SCORE_KEYS)
    assert result.images[0][2:] == [None, None]
    assert "| vgg19 | no weights here | – | – | – | – | – |" in result.markdown()
    assert result.grid().shape == grid_shape(1, 4)


def test_sweep_backbone_ratio_rows_and_grid(metrics):
    result = experiments.sweep_backbone_ratio(PAIRS[:1], [1, 1e3], backbones=("vgg16", "vgg19"), size=48, steps=2,
                                              weights=None, metrics=metrics)
    assert [row["ratio"] for row in result.rows] == [1.0, 1000.0]
    assert list(result.rows[0]) == ["content", "style", "ratio", *SCORE_KEYS]
    assert result.columns == ["content", "style", "vgg19:vgg16 = 1", "vgg19:vgg16 = 1000"]
    assert result.grid().shape == grid_shape(1, 4)


def test_sweep_backbone_ratio_needs_weights():
    with pytest.raises(WeightsError, match="needs ImageNet weights for vgg19, inception_v3"):
        experiments.sweep_backbone_ratio(PAIRS, [1], size=96, steps=2)


def test_compare_style_losses_rows_and_grid(metrics):
    result = experiments.compare_style_losses(PAIRS[:1], backbone="vgg16", size=48, steps=2, weights=None,
                                              metrics=metrics)
    assert [row["style_loss"] for row in result.rows] == list(experiments.STYLE_LOSSES)
    assert list(result.rows[0]) == ["content", "style", "style_loss", *SCORE_KEYS]
    assert all(np.isfinite(row[key]) for row in result.rows for key in SCORE_KEYS)
    assert result.columns == ["content", "style", *experiments.STYLE_LOSSES]
    assert result.grid().shape == grid_shape(1, 2 + len(experiments.STYLE_LOSSES))


def test_markdown_table_golden():
    rows = [{"loss": "gram", "ssim": 0.51234, "seconds": 12.0, "note": None},
            {"loss": "mmd_gaussian", "ssim": 1, "seconds": 1234.5, "note": "no weights here"}]
    assert experiments.markdown_table(rows) == (
        "| loss | ssim | seconds | note |\n"
        "|---|---|---|---|\n"
        "| gram | 0.512 | 12 | – |\n"
        "| mmd_gaussian | 1 | 1.23e+03 | no weights here |\n"
    )
    assert experiments.markdown_table(rows, ["note", "loss"]).splitlines()[2] == "| – | gram |"
    assert experiments.markdown_table([]) == ""


def test_make_grid_layout():
    red = np.zeros((20, 40, 3), np.float32)
    red[..., 0] = 1.0
    grid = experiments.make_grid([[red, None], [red]], ["a", "b"], ["row one", "row two"], cell=(40, 30))
    assert grid.shape == grid_shape(2, 2, cell=(40, 30))
    top = experiments.HEADER + experiments.ROW_LABEL + experiments.PAD
    left = experiments.PAD
    # the 40x20 image is centred vertically in its 40x30 cell; the empty cell is grey; a short row stays blank
    assert np.allclose(grid[top + 15, left + 20], [1, 0, 0], atol=0.02)
    assert np.allclose(grid[top + 2, left + 20], [1, 1, 1])
    assert np.allclose(grid[top + 2, 2 * left + 40 + 2], 200 / 255)
    second_row = top + 30 + experiments.PAD + experiments.ROW_LABEL
    assert np.allclose(grid[second_row + 15, 2 * left + 40 + 20], [1, 1, 1])
    pad = experiments.PAD
    assert experiments.make_grid([[red]], cell=(40, 30)).shape == (30 + 2 * pad, 40 + 2 * pad, 3)


def test_label_and_resolve_source(tmp_path):
    (tmp_path / "style").mkdir()
    (tmp_path / "style" / "wave.jpg").write_bytes(b"x")
    assert experiments.label("sample:ink") == "ink (sample)"
    assert experiments.label("/data/style/wave.jpg") == "wave"
    assert experiments.resolve_source("sample:ink", tmp_path) == "sample:ink"
    assert experiments.resolve_source("style/wave.jpg", tmp_path) == str(tmp_path / "style" / "wave.jpg")
    with pytest.raises(Exception, match="image not found: style/none.jpg"):
        experiments.resolve_source("style/none.jpg", tmp_path)


def test_compare_backbones_script(tmp_path, capsys):
    output = tmp_path / "backbones.jpg"
    code = load_script("compare_backbones").main(
        ["--pair", "sample:astronaut", "sample:ink", "--backbones", "vgg16", "--size", "48", "--steps", "2",
         "--allow-random-weights", "-o", str(output)])
    assert code == 0 and output.is_file()
    table = (tmp_path / "backbones.md").read_text()
    assert "Random weights" in table and "| astronaut (sample) | ink (sample) | vgg16 | ran |" in table
    assert table in capsys.readouterr().out


def test_compare_style_losses_script(tmp_path):
    output, table = tmp_path / "losses.jpg", tmp_path / "table.md"
    code = load_script("compare_style_losses").main(
        ["--pair", "sample:astronaut", "sample:ink", "--losses", "gram,meanstd", "--backbone", "vgg16",
         "--size", "48", "--steps", "2", "--allow-random-weights", "-o", str(output), "--table", str(table)])
    assert code == 0 and output.is_file()
    rows = [line for line in table.read_text().splitlines() if line.startswith("| astronaut")]
    assert [line.split(" | ")[2] for line in rows] == ["gram", "meanstd"]


def test_sweep_backbone_ratio_script_without_weights_writes_nothing(tmp_path, capsys):
    code = load_script("sweep_backbone_ratio").main(["-o", str(tmp_path / "ratio.jpg")])
    assert code == 0 and list(tmp_path.iterdir()) == []
    out = capsys.readouterr().out
    assert out.count("\n") == 1 and "no ImageNet weights here for vgg19, inception_v3" in out


def test_sweep_backbone_ratio_script_mechanics(tmp_path):
    output = tmp_path / "ratio.jpg"
    code = load_script("sweep_backbone_ratio").main(
        ["--pair", "sample:astronaut", "sample:ink", "--ratios", "1e3", "--size", "75", "--steps", "1",
         "--allow-random-weights", "-o", str(output)])
    assert code == 0 and output.is_file()
    assert "| astronaut (sample) | ink (sample) | 1e+03 |" in (tmp_path / "ratio.md").read_text()


def test_script_bad_input_exits_2(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        load_script("compare_style_losses").main(["--pair", "no_such.jpg", "sample:ink", "--data", str(tmp_path),
                                                  "-o", str(tmp_path / "x.jpg")])
    assert exit_info.value.code == 2
    assert "image not found: no_such.jpg" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []
