"""The `tfstyle` command line, called as `main([...])`: help, listings, one-line errors and real tiny runs.

Images are generated with numpy; the only network used is the offline `vgg16_hed` at 64 px (conftest.py sets
TFSTYLE_OFFLINE=1 and an empty KERAS_HOME, so `auto` is `vgg16_hed` and ImageNet backbones are `missing`).
"""

import argparse
import pathlib
import re
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from PIL import Image

from tfstyle.cli import parsing
from tfstyle.cli.main import main
from tfstyle.io import save_image

COMMANDS = ("stylize", "backbones", "samples")
BACKBONES = ("vgg19", "vgg16", "vgg16_hed", "inception_v3", "resnet50", "nasnet_mobile")
TINY_RUN = ["--backbone", "vgg16_hed", "--size", "64", "--steps", "3", "--no-progress"]


def smooth_image(height, width, seed):
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:height, 0:width] / max(height, width)
    phase = rng.uniform(0, 6, 3)
    image = np.stack([np.sin(7 * xx + phase[k]) * np.cos(5 * yy - phase[k]) for k in range(3)], axis=-1)
    return np.clip(0.5 + 0.4 * image + rng.normal(0, 0.03, image.shape), 0, 1).astype(np.float32)


@pytest.fixture
def images(tmp_path):
    """A 96x72 content photo and a 80x80 style image as PNG files, plus an output folder."""
    content, style = tmp_path / "content.png", tmp_path / "style.png"
    save_image(content, smooth_image(72, 96, seed=0))
    save_image(style, smooth_image(80, 80, seed=1))
    out = tmp_path / "out"
    out.mkdir()
    return content, style, out


def error_line(capsys, command="stylize"):
    """The single stderr line of a failed command (and no stdout)."""
    captured = capsys.readouterr()
    lines = captured.err.splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith(f"tfstyle {command}: error: "), lines[0]
    return lines[0]


# --- help and parsing ----------------------------------------------------------------------------------------------

def test_main_help(capsys):
    with pytest.raises(SystemExit) as info:
        main(["--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    for command in COMMANDS:
        assert command in out


@pytest.mark.parametrize("command", COMMANDS)
def test_subcommand_help(capsys, command):
    with pytest.raises(SystemExit) as info:
        main([command, "--help"])
    assert info.value.code == 0
    assert f"usage: tfstyle {command}" in capsys.readouterr().out


def test_version(capsys):
    from tfstyle import __version__

    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out.strip() == f"tfstyle {__version__}"


def test_no_command_prints_help_and_fails(capsys):
    assert main([]) == 2
    assert "usage: tfstyle" in capsys.readouterr().out


def test_help_does_not_import_tensorflow():
    code = textwrap.dedent("""
        import contextlib, io, sys
        from tfstyle.cli.main import build_parser
        parser = build_parser()
        with contextlib.redirect_stdout(io.StringIO()) as out:
            try:
                parser.parse_args(["stylize", "--help"])
            except SystemExit:
                pass
        assert "usage: tfstyle stylize" in out.getvalue()
        print(sorted(name for name in ("tensorflow", "keras") if name in sys.modules))
    """)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_argparse_errors_are_one_line(capsys):
    with pytest.raises(SystemExit) as info:
        main(["nosuch"])
    assert info.value.code == 2
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("tfstyle: error: ")


@pytest.mark.parametrize("option,value,message", [
    ("--size", "0", "argument --size: must be at least 1, got 0"),
    ("--steps", "-1", "argument --steps: must be at least 1, got -1"),
    ("--steps", "ten", "argument --steps: expected a whole number, got 'ten'"),
    ("--style-weight", "-1", "argument --style-weight: must be a finite number >= 0, got -1"),
    ("--style-weight", "inf", "argument --style-weight: must be a finite number >= 0, got inf"),
    ("--learning-rate", "0", "argument --learning-rate: must be greater than 0, got 0"),
    ("--style-blend-weights", "1,x", "argument --style-blend-weights: expected comma-separated numbers, got '1,x'"),
    ("--backbone", "vgg16_hed:x", "argument --backbone: expected NAME:WEIGHT pairs such as vgg19:1,inception_v3:1000, "
                                  "got 'vgg16_hed:x'"),
    ("--backbone", "vgg16_hed:1,vgg16", "argument --backbone: expected NAME:WEIGHT pairs such as "
                                        "vgg19:1,inception_v3:1000, got 'vgg16_hed:1,vgg16'"),
    ("--optimizer", "sgd", "argument --optimizer: invalid choice: 'sgd' (choose from lbfgs, adam)"),
])
def test_bad_option_values_exit_2(capsys, images, option, value, message):
    content, style, out = images
    with pytest.raises(SystemExit) as info:
        main(["stylize", str(content), str(style), "-o", str(out / "o.png"), f"{option}={value}"])
    assert info.value.code == 2
    line = capsys.readouterr().err.strip()
    assert "\n" not in line
    if option == "--optimizer":  # argparse quotes choices differently across Python versions
        assert line.startswith("tfstyle stylize: error: argument --optimizer: invalid choice: 'sgd'")
    else:
        assert line == f"tfstyle stylize: error: {message} (see --help)"
    assert list(out.iterdir()) == []


def test_backbone_choice_parsing():
    assert parsing.backbone_choice("vgg16_hed:1,vgg16:2") == {"vgg16_hed": 1.0, "vgg16": 2.0}
    assert parsing.backbone_choice(" vgg19 : 1 , inception_v3:1e3") == {"vgg19": 1.0, "inception_v3": 1000.0}
    assert parsing.backbone_choice("vgg19") == "vgg19"
    assert parsing.backbone_choice(" auto ") == "auto"
    with pytest.raises(argparse.ArgumentTypeError, match="expected NAME:WEIGHT pairs"):
        parsing.backbone_choice("vgg16_hed:one")


def test_backbone_option_reaches_args():
    from tfstyle.cli.main import build_parser

    args = build_parser().parse_args(["stylize", "c.png", "s.png", "-o", "o.png", "--backbone", "vgg16_hed:1,vgg16:2"])
    assert args.backbone == {"vgg16_hed": 1.0, "vgg16": 2.0}
    assert args.style == ["s.png"]


# --- backbones and samples -----------------------------------------------------------------------------------------

def test_backbones_lists_every_network_and_the_auto_choice(capsys):
    assert main(["backbones"]) == 0
    out = capsys.readouterr().out
    names = [line.split()[0] for line in out.splitlines() if line and not line[0].isspace()]
    assert names[:len(BACKBONES)] == list(BACKBONES)
    assert "vgg16_hed      weights: present" in out
    assert "vgg19          weights: missing" in out
    auto = [line for line in out.splitlines() if line.startswith("backbone auto:")]
    assert auto == ["backbone auto: using vgg16_hed (TFSTYLE_OFFLINE is set and VGG19 weights are not cached)"]


def test_backbones_layers(capsys):
    assert main(["backbones", "--layers"]) == 0
    out = capsys.readouterr().out
    assert "layers: mixed0,mixed1,mixed2,mixed3,mixed4,mixed5,mixed6,mixed7,mixed8,mixed9,mixed10" in out
    assert "block3_conv4" in out  # vgg19's


def test_samples_lists_the_built_in_images(capsys):
    from tfstyle import samples

    assert main(["samples"]) == 0
    out = capsys.readouterr().out
    listed = [line.split()[0] for line in out.splitlines()]
    assert listed == [f"sample:{name}" for name in samples.available()]
    assert "sample:astronaut" in listed


def test_samples_save(tmp_path, capsys):
    path = tmp_path / "x.png"
    assert main(["samples", "--save", "astronaut", "-o", str(path)]) == 0
    assert capsys.readouterr().out.strip() == f"wrote {path}"
    with Image.open(path) as image:
        assert image.format == "PNG"
        assert image.size == (512, 512)
        assert image.mode == "RGB"


@pytest.mark.parametrize("args,message", [
    (["--save", "astronaut"], "--save needs -o PATH"),
    (["--save", "nosuch", "-o", "{tmp}/x.png"], "unknown sample 'nosuch'; available: astronaut, camera, chelsea, "
                                                  "coffee, ink, mosaic, rocket, waves"),
    (["--save", "astronaut", "-o", "{tmp}/missing/x.png"], "output folder does not exist: {tmp}/missing"),
])
def test_samples_save_errors(tmp_path, capsys, args, message):
    args = [arg.format(tmp=tmp_path) for arg in args]
    assert main(["samples", *args]) == 2
    assert error_line(capsys, "samples") == f"tfstyle samples: error: {message.format(tmp=tmp_path)}"
    assert list(tmp_path.iterdir()) == []


# --- stylize: bad input --------------------------------------------------------------------------------------------

def _bad_stylize_cases():
    """(arguments with {content}, {style}, {out}, {tmp} placeholders, exact error message or its start)."""
    return [
        pytest.param(["{tmp}/missing.png", "{style}", "-o", "{out}/o.png"], "image not found: {tmp}/missing.png",
                     id="missing-content"),
        pytest.param(["{content}", "{tmp}/fake.jpg", "-o", "{out}/o.png"],
                     "not an image (Pillow cannot identify it): {tmp}/fake.jpg", id="text-file-as-style"),
        pytest.param(["{content}", "{style}", "-o", "{out}/o.png", "--backbone", "vgg99"],
                     "unknown backbone 'vgg99'; choose one of: auto, vgg19, vgg16, vgg16_hed, inception_v3, "
                     "resnet50, nasnet_mobile", id="unknown-backbone"),
        pytest.param(["{content}", "{style}", "-o", "{out}/o.png", "--backbone", "vgg16_hed:1,vgg99:2"],
                     "unknown backbone 'vgg99'; choose one of: auto, vgg19, vgg16, vgg16_hed, inception_v3, "
                     "resnet50, nasnet_mobile", id="unknown-backbone-in-list"),
        pytest.param(["{content}", "{style}", "-o", "{out}/o.png", "--style-layers", "block1_conv1,block9_conv1"],
                     "unknown layer block9_conv1 for backbone vgg16_hed; valid layers: block1_conv1, ",
                     id="unknown-layer"),
        pytest.param(["{content}", "{style}", "-o", "{out}/nodir/o.png"], "output folder does not exist: {out}/nodir",
                     id="missing-output-folder"),
        pytest.param(["{content}", "{style}", "-o", "{out}/o.xyz"],
                     "unsupported output format '.xyz' (use .png, .jpg, .jpeg, .webp, .bmp, .tif, .tiff): {out}/o.xyz",
                     id="unsupported-extension"),
        pytest.param(["{content}", "{style}", "{style}", "-o", "{out}/o.png", "--style-blend-weights", "1"],
                     "--style-blend-weights has 1 values for 2 style images", id="blend-weights-count"),
        pytest.param(["{content}", "{style}", "-o", "{out}/o.png", "--size", "16"],
                     "the output is 16x12 pixels but vgg16_hed needs at least 32 on each side; increase size",
                     id="too-small"),
        pytest.param(["{content}", "{style}", "-o", "{out}/o.png", "--weights", "{tmp}/nope.h5"],
                     "weights file not found: {tmp}/nope.h5", id="missing-weights-file"),
        pytest.param(["{content}", "{style}", "-o", "{out}/o.png", "--pooling", "avg", "--backbone", "resnet50"],
                     "pooling=avg is only available for the VGG backbones, not resnet50", id="avg-pool-resnet"),
        pytest.param(["{content}", "{style}", "-o", "{out}/o.png", "--backbone", "vgg19"],
                     "ImageNet weights for vgg19 are not in the Keras cache and TFSTYLE_OFFLINE is set; connect to "
                     "the internet once so Keras can cache them, pass --weights PATH to a weights file, or use the "
                     "offline backbone vgg16_hed", id="imagenet-offline"),
        pytest.param(["{content}", "{style}", "-o", "{out}/o.png", "--structure", "laplacian"],
                     "--structure laplacian needs --structure-weight (its λ_d", id="structure-without-weight"),
        pytest.param(["{content}", "{style}", "-o", "{out}/o.png", "--structure", "depth.onnx",
                      "--structure-weight", "1"], "unknown structure network 'depth.onnx'; choose laplacian[:POOL] "
                                                  "(structure proxy, not depth)", id="structure-unknown"),
        pytest.param(["{content}", "{style}", "-o", "{out}/o.png", "--init", "sparkles"],
                     "unknown init 'sparkles'; choose one of: content, palette, noise, style, or an image path",
                     id="unknown-init"),
    ]


@pytest.mark.parametrize("args,message", _bad_stylize_cases())
def test_stylize_bad_input_is_one_line_and_writes_nothing(tmp_path, capsys, images, args, message):
    content, style, out = images
    (tmp_path / "fake.jpg").write_text("this is not a JPEG\n")
    fill = {"content": content, "style": style, "out": out, "tmp": tmp_path}
    args = [arg.format(**fill) for arg in args]
    if "--backbone" not in args:
        args += ["--backbone", "vgg16_hed"]  # the `auto` line is checked separately
    if "--size" not in args:
        args += ["--size", "48"]
    assert main(["stylize", *args, "--steps", "2", "--no-progress"]) == 2
    line = error_line(capsys)
    assert line.startswith(f"tfstyle stylize: error: {message.format(**fill)}")
    assert list(out.iterdir()) == []


def test_stylize_bad_input_with_auto_backbone_is_one_line(tmp_path, capsys, images):
    _, style, out = images
    assert main(["stylize", str(tmp_path / "missing.png"), str(style), "-o", str(out / "o.png")]) == 2
    assert error_line(capsys) == f"tfstyle stylize: error: image not found: {tmp_path / 'missing.png'}"


def test_failing_run_leaves_an_existing_output_alone(tmp_path, capsys, images):
    _, style, out = images
    target = out / "o.png"
    save_image(target, smooth_image(20, 30, seed=5))
    before = target.read_bytes()
    args = ["stylize", str(tmp_path / "missing.png"), str(style), "-o", str(target), *TINY_RUN]
    assert main(args) == 2
    error_line(capsys)
    assert target.read_bytes() == before
    assert sorted(path.name for path in out.iterdir()) == ["o.png"]


# --- stylize: real tiny runs ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("optimizer", ["adam", "lbfgs"])
def test_stylize_end_to_end(capsys, images, optimizer):
    content, style, out = images
    target = out / "result.png"
    assert main(["stylize", str(content), str(style), "-o", str(target), "--optimizer", optimizer, *TINY_RUN]) == 0
    captured = capsys.readouterr()
    assert re.fullmatch(r"memory estimate: \d+ MiB at peak for 64x48 \(untiled, (Adam|L-BFGS with 20 corrections)\)\n",
                        captured.err)
    assert captured.out.startswith(f"wrote {target}  (3 steps, ")
    assert "backbone vgg16_hed" in captured.out
    assert sorted(path.name for path in out.iterdir()) == ["result.png"]
    with Image.open(target) as image:
        assert image.format == "PNG"
        assert image.size == (64, 48)  # 96x72 content, long side 64
        pixels = np.asarray(image.convert("RGB"), np.float32) / 255.0
    content_pixels = np.asarray(Image.open(content).convert("RGB").resize((64, 48)), np.float32) / 255.0
    assert np.abs(pixels - content_pixels).mean() > 1e-3  # the optimization changed the image


def test_stylize_save_every_and_print_every(capsys, images):
    content, style, out = images
    target = out / "out.png"
    args = ["stylize", str(content), str(style), "-o", str(target), "--optimizer", "adam", *TINY_RUN,
            "--save-every", "1", "--print-every", "1"]
    assert main(args) == 0
    lines = capsys.readouterr().out.splitlines()
    steps = [line for line in lines if line.startswith("step ")]
    assert [line.split()[1] for line in steps] == ["1/3", "2/3", "3/3"]
    assert all("total " in line and "style " in line for line in steps)
    # the last step is the output itself
    assert sorted(path.name for path in out.iterdir()) == ["out.png", "out_0001.png", "out_0002.png"]
    for name in ("out_0001.png", "out_0002.png"):
        with Image.open(out / name) as image:
            assert image.size == (64, 48)


def test_stylize_auto_says_which_backbone(capsys, images):
    content, style, out = images
    target = out / "auto.jpg"
    args = ["stylize", str(content), str(style), "-o", str(target), "--size", "48", "--steps", "1", "--no-progress",
            "--optimizer", "adam"]
    assert main(args) == 0
    captured = capsys.readouterr()
    lines = captured.err.splitlines()
    assert lines[0] == "backbone auto: using vgg16_hed (TFSTYLE_OFFLINE is set and VGG19 weights are not cached)"
    assert len(lines) == 2 and lines[1].startswith("memory estimate: ")
    with Image.open(target) as image:
        assert image.format == "JPEG" and image.size == (48, 36)


def test_stylize_with_sample_images(tmp_path, capsys):
    target = tmp_path / "sample.png"
    args = ["stylize", "sample:astronaut", "sample:waves", "-o", str(target), "--size", "40", "--steps", "1",
            "--optimizer", "adam", "--backbone", "vgg16_hed", "--no-progress"]
    assert main(args) == 0
    with Image.open(target) as image:
        assert image.size == (40, 40)


def test_layer_choice_reads_names_and_weights():
    from tfstyle.cli.parsing import layer_choice

    assert layer_choice("block1_conv1, block2_conv1") == ["block1_conv1", "block2_conv1"]
    assert layer_choice("block1_conv1:1,block2_conv1:3") == {"block1_conv1": 1.0, "block2_conv1": 3.0}
    with pytest.raises(argparse.ArgumentTypeError):
        layer_choice("block1_conv1:x")


# --- stylize: pyramid, report, checkpoints ---------------------------------------------------------------------------

def test_stylize_pyramid_and_report(capsys, images):
    import json

    content, style, out = images
    target, report = out / "result.png", out / "report.json"
    args = ["stylize", str(content), str(style), "-o", str(target), "--backbone", "vgg16_hed", "--sizes", "48,64",
            "--steps", "2,1", "--no-progress", "--report", str(report)]
    assert main(args) == 0
    captured = capsys.readouterr()
    assert captured.out.startswith(f"wrote {target}  (3 steps, ")
    assert "metrics without a trained network: colour " in captured.out
    assert "metrics on vgg16_hed (the network this run optimized: no evidence of quality): style_gram " in captured.out
    data = json.loads(report.read_text())
    assert data["info"]["sizes"] == [48, 64] and data["info"]["level_steps"] == [2, 1]
    assert data["info"]["steps"] == 3 and data["output"] == str(target)
    assert set(data["info"]["metrics"]) >= {"style_gram", "content", "ssim", "psnr"}
    assert set(data["final_terms"]) >= {"total", "content", "style", "tv"}
    assert data["options"]["sizes"] == [48, 64]
    assert sorted(path.name for path in out.iterdir()) == ["report.json", "result.png"]  # no checkpoint left


def test_stylize_structure_term_is_reported_as_a_proxy(capsys, images):
    import json

    content, style, out = images
    target, report = out / "result.png", out / "report.json"
    args = ["stylize", str(content), str(style), "-o", str(target), *TINY_RUN, "--structure", "laplacian",
            "--structure-weight", "1", "--report", str(report), "--no-metrics"]
    assert main(args) == 0
    capsys.readouterr()
    data = json.loads(report.read_text())
    assert data["info"]["structure"] == "laplacian pool 4 (structure proxy, not depth)"
    assert data["info"]["structure_is_proxy"] is True and data["info"]["structure_weight"] == 1.0
    assert "structure" in data["final_terms"]


@pytest.mark.parametrize("args,message", [
    (["--sizes", "64,48"], "argument --sizes: sizes must increase from coarse to fine, got '64,48'"),
    (["--sizes", "64,x"], "argument --sizes: expected a whole number, got 'x'"),
    (["--steps", "0"], "argument --steps: must be at least 1, got 0"),
    (["--sizes", "48,64", "--steps", "1,2,3"], "got 3 step counts for 2 sizes [48, 64]"),
    (["--checkpoint-every", "-1"], "argument --checkpoint-every: must be at least 0, got -1"),
])
def test_stylize_pyramid_option_errors(capsys, images, args, message):
    content, style, out = images
    try:
        code = main(["stylize", str(content), str(style), "-o", str(out / "o.png"), "--backbone", "vgg16_hed",
                     "--no-progress", *args])
    except SystemExit as exit:  # argparse errors leave through SystemExit
        code = exit.code
    assert code == 2
    assert error_line(capsys) == f"tfstyle stylize: error: {message}" + (" (see --help)" if "argument" in message
                                                                          else "")
    assert list(out.iterdir()) == []


def test_stylize_refuses_an_existing_checkpoint_without_resume(capsys, images):
    content, style, out = images
    base = ["stylize", str(content), str(style), "-o", str(out / "o.png"), "--optimizer", "adam", *TINY_RUN,
            "--checkpoint-every", "2", "--no-metrics"]
    assert main(base) == 0
    assert (out / "o.checkpoint" / "run.json").is_file()
    capsys.readouterr()
    assert main(base) == 2
    assert error_line(capsys) == (f"tfstyle stylize: error: {out / 'o.checkpoint'} already holds a checkpoint; "
                                  f"resume it (resume=True, --resume) or choose another checkpoint folder")
    # a finished run with periodic checkpoints can be extended
    assert main([*base, "--resume", "--steps", "5"]) == 0
    assert "(5 steps, " in capsys.readouterr().out


@pytest.mark.slow
def test_ctrl_c_saves_then_resume_continues(tmp_path, images):
    """As a user would: start a run, press Ctrl-C, run the same command with --resume."""
    import os
    import signal
    import time

    content, style, out = images
    target = out / "o.png"
    command = [sys.executable, "-m", "tfstyle.cli.main", "stylize", str(content), str(style), "-o", str(target),
               "--backbone", "vgg16_hed", "--size", "64", "--steps", "400", "--optimizer", "adam",
               "--print-every", "1", "--no-progress", "--no-metrics"]
    # as from a terminal: SIGINT at its default even if this test runs as a background job (which ignores it)
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env={**os.environ, "TFSTYLE_OFFLINE": "1"},
                               preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.monotonic() + 120
    for line in process.stdout:
        if line.startswith("step 5/") or time.monotonic() > deadline:
            break
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr
    last = stderr.strip().splitlines()[-1]
    assert last.startswith("interrupted after ") and "--resume" in last
    stopped = int(last.split()[2])
    assert 5 <= stopped < 400
    assert target.is_file() and (out / "o.checkpoint" / "history.json").is_file()

    resumed = subprocess.run([*command[:command.index("400")], f"{stopped + 3}", *command[command.index("400") + 1:],
                              "--resume"], capture_output=True, text=True, timeout=120,
                             env={**os.environ, "TFSTYLE_OFFLINE": "1"})
    assert resumed.returncode == 0, resumed.stderr
    assert f"({stopped + 3} steps, " in resumed.stdout and f"resumed at step {stopped}" in resumed.stdout


def test_stylize_style_loss_choices_are_the_registered_losses():
    from tfstyle.cli.stylize import STYLE_LOSSES
    from tfstyle.losses import STYLE_LOSSES as registered

    assert STYLE_LOSSES == tuple(registered)


def test_metrics_lines_flag_the_network_the_run_optimized():
    from tfstyle.cli.stylize import metrics_lines

    scores = {"network": "vgg16_hed", "style_gram": 0.1, "colour": 2.0, "texture": 0.05}
    assert metrics_lines(scores, "vgg16_hed") == [
        "metrics without a trained network: colour 2  texture 0.05",
        "metrics on vgg16_hed (the network this run optimized: no evidence of quality): style_gram 0.1"]
    assert metrics_lines(scores, {"vgg16_hed": 1.0, "vgg19": 1.0})[1].startswith("metrics on vgg16_hed (the network")
    assert metrics_lines(scores, "vgg19")[1] == "metrics on vgg16_hed: style_gram 0.1"
