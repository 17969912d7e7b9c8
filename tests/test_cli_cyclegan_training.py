"""`tfstyle train-cyclegan`, called as `main([...])`: a tiny run, one exact error line for bad input, exit codes."""

import dataclasses
import pathlib
import re
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest
from PIL import Image

from tfstyle.cli.main import main
from tfstyle.cyclegan import training

TINY = ["--generator", "unet", "--depth", "2", "--filters", "4", "--discriminator-layers", "1",
        "--discriminator-filters", "4", "--crop-size", "16", "--resize-to", "20", "--pool-size", "2",
        "--identity-weight", "0", "--log-every", "1", "--images-every", "0", "--no-progress"]


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    root = tmp_path_factory.mktemp("cyclegan_cli_data")
    rng = np.random.default_rng(0)
    for name in ("photos", "ink"):
        (root / name).mkdir()
        for index in range(2):
            Image.fromarray(rng.uniform(0, 255, (20, 24, 3)).astype("uint8")).save(root / name / f"{index}.png")
    return root / "photos", root / "ink"


def run(capsys, *args):
    """Exit code, stdout lines, stderr lines of `tfstyle train-cyclegan ARGS` (argparse errors included)."""
    try:
        code = main(["train-cyclegan", *map(str, args)])
    except SystemExit as exit:
        code = exit.code
    captured = capsys.readouterr()
    return code, captured.out.splitlines(), captured.err.splitlines()


def test_help_lists_the_options_without_importing_tensorflow():
    code = textwrap.dedent("""
        import contextlib, io, sys
        from tfstyle.cli.main import build_parser
        with contextlib.redirect_stdout(io.StringIO()) as out:
            try:
                build_parser().parse_args(["train-cyclegan", "--help"])
            except SystemExit:
                pass
        print(" ".join(out.getvalue().split()))
        print(sorted(name for name in ("tensorflow", "keras") if name in sys.modules))
    """)
    repo = pathlib.Path(__file__).resolve().parents[1]
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=repo)
    assert result.returncode == 0, result.stderr
    text, modules = result.stdout.strip().splitlines()
    assert text.startswith("usage: tfstyle train-cyclegan") and modules == "[]"
    for option in ("--a-dir", "--b-dir", "--generator {resnet,unet,unet_attention}", "--blocks", "--depth",
                   "--filters", "--max-filters", "--upsampling", "--attention", "--discriminator-layers", "--spectral-norm",
                   "--discriminator-attention", "--objective {lsgan,vanilla,wgan-gp}", "--critic-steps", "--gp-weight",
                   "--cycle-weight", "--identity-weight", "--pool-size", "--steps", "--decay-steps", "--batch-size",
                   "--crop-size", "--resize-to", "--learning-rate", "--checkpoint-every", "--log-every",
                   "--images-every", "--max-minutes", "--resume", "--seed", "--no-progress"):
        assert option in text, option


def test_a_run_stopped_by_the_time_limit_writes_generators_that_load(capsys, folders, tmp_path):
    photos, ink = folders
    workdir = tmp_path / "run"
    common = ["--a-dir", photos, "--b-dir", ink, "-o", workdir, *TINY, "--steps", "3"]
    code, out, err = run(capsys, *common, "--max-minutes", "0")  # stops after its first step
    assert code == 0, err
    assert re.fullmatch(rf"wrote {re.escape(str(workdir / 'generator_ab.keras'))} and generator_ba.keras  "
                        r"\(1 step, \d+\.\d\d s/step\)  generator \S+  discriminator \S+", out[0]), out
    assert err == ["stopped at the time limit (0 min) at step 1 of 3; run the same command with --resume to continue"]
    generator = keras.saving.load_model(workdir / "generator_ab.keras", safe_mode=True)
    assert generator(np.zeros((1, 16, 16, 3), "float32")).shape == (1, 16, 16, 3)

    code, out, err = run(capsys, *common)
    assert (code, out) == (2, [])
    assert err == [f"tfstyle train-cyclegan: error: {workdir} already holds a training checkpoint; resume it "
                   f"(resume=True, --resume) or choose another work folder"]
    code, out, err = run(capsys, *common, "--resume", "--cycle-weight", "3")
    assert (code, out) == (2, [])
    assert err == [f"tfstyle train-cyclegan: error: the checkpoint in {workdir / 'checkpoints'} was made with "
                   f"cycle_weight=10.0, this run has cycle_weight=3.0; use the same options or another checkpoint "
                   f"folder"]


def _bad_cases():
    """(arguments with {photos}, {ink}, {tmp} placeholders, the exact error line, or its start before "...")."""
    base = ["--a-dir", "{photos}", "--b-dir", "{ink}", "-o", "{tmp}/run"]
    prefix = "tfstyle train-cyclegan: error: "
    return [
        pytest.param(["--a-dir", "{tmp}/missing", "--b-dir", "{ink}", "-o", "{tmp}/run"],
                     prefix + "image folder not found: {tmp}/missing", id="missing-folder"),
        pytest.param([*base, "--generator", "unet", "--blocks", "3"],
                     prefix + "--blocks applies to the resnet generator; Received: --generator unet", id="blocks-unet"),
        pytest.param([*base, "--depth", "3"],
                     prefix + "--depth applies to the unet and unet_attention generators; Received: --generator "
                              "resnet",
                     id="depth-resnet"),
        pytest.param([*base, "--max-filters", "128"],
                     prefix + "--max-filters applies to the unet and unet_attention generators; Received: "
                              "--generator resnet",
                     id="max-filters-resnet"),
        pytest.param([*base, "--generator", "unet", "--filters", "64", "--max-filters", "32"],
                     prefix + "max_filters must be >= filters=64; Received: max_filters=32", id="max-filters-small"),
        pytest.param([*base, "--gp-weight", "5"],
                     prefix + "--gp-weight applies to --objective wgan-gp; Received: --objective lsgan", id="gp-lsgan"),
        pytest.param([*base, "--critic-steps", "0"],
                     prefix + "argument --critic-steps: must be at least 1, got 0 (see --help)", id="critic-steps-0"),
        pytest.param([*base, "--objective", "hinge"],  # argparse quotes the choices or not by Python version
                     prefix + "argument --objective: invalid choice: 'hinge' (choose from ...", id="objective"),
        pytest.param([*base, "--filters", "4", "--crop-size", "30"],
                     prefix + "crop_size 30 is not a multiple of 4, which the resnet generator needs (options "
                              "{{'filters': 4, 'blocks': 6}})", id="crop-not-multiple"),
        pytest.param([*base, "--crop-size", "16"],
                     prefix + "crop_size 16 is too small for a PatchGAN discriminator with n_layers=3: it needs at "
                              "least 24 px (or fewer layers)", id="crop-too-small"),
        pytest.param([*base, "--beta1", "1"], prefix + "argument --beta1: must be in [0, 1), got 1 (see --help)",
                     id="beta1"),
        pytest.param([*base, "--steps", "4", "--decay-steps", "5"],
                     prefix + "decay_steps must be at most steps=4; Received: decay_steps=5", id="decay-steps"),
    ]


@pytest.mark.parametrize("args,message", _bad_cases())
def test_bad_input_is_one_line_exit_2_and_writes_nothing(capsys, folders, tmp_path, args, message):
    fill = {"photos": folders[0], "ink": folders[1], "tmp": tmp_path}
    code, out, err = run(capsys, *[arg.format(**fill) for arg in args], "--no-progress")
    assert (code, out, len(err)) == (2, [], 1)
    message = message.format(**fill)
    assert err[0].startswith(message[:-3]) if message.endswith("...") else err[0] == message
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("reason,code,message", [
    ("interrupted", 130, "interrupted at step 7; the checkpoint is in {workdir}/checkpoints and the generators in "
                         "{workdir}; run the same command with --resume to continue"),
    ("diverged", 1, "a loss became NaN or infinite at step 7; the last checkpoint in {workdir}/checkpoints is kept "
                    "(try a lower --learning-rate)"),
])
def test_interruption_and_divergence_exit_codes(capsys, monkeypatch, folders, tmp_path, reason, code, message):
    calls = []

    def fake_training(*args, **options):
        calls.append(options)
        return training.CycleGANTrainingResult(None, 7, reason, 1.0, {}, 0)

    monkeypatch.setattr(training, "train_cyclegan", fake_training)
    workdir = tmp_path / "run"
    result = run(capsys, "--a-dir", folders[0], "--b-dir", folders[1], "-o", workdir, "--objective", "wgan-gp",
                 "--critic-steps", "3", "--max-minutes", "1.5")
    assert result == (code, [], [message.format(workdir=workdir)])
    assert {key: calls[0][key] for key in ("objective", "critic_steps", "gp_weight", "max_seconds")} == {
        "objective": "wgan-gp", "critic_steps": 3, "gp_weight": None, "max_seconds": 90.0}
    assert dataclasses.is_dataclass(training.CycleGANTrainingResult)
