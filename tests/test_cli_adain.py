"""`tfstyle adain`, called as `main([...])`: images, folders, videos, and one exact error line for bad input.

The decoder is a tiny random one (relu2_1 VGG16 with `weights=None`, `decoder_width=0.125`) exported with its JSON
config into a temporary folder and passed by path; the shipped-name lookup is pointed at temporary folders.
"""

import re
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest
from PIL import Image

from tfstyle.adain import AdaINModel, export_decoder, pretrained
from tfstyle.cli.main import main
from tfstyle.io import save_image


def smooth_image(height, width, seed):
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:height, 0:width] / max(height, width)
    phase = rng.uniform(0, 6, 3)
    image = np.stack([np.sin(7 * xx + phase[k]) * np.cos(5 * yy - phase[k]) for k in range(3)], axis=-1)
    return np.clip(0.5 + 0.3 * image + rng.normal(0, 0.03, image.shape), 0, 1).astype(np.float32)


@pytest.fixture(scope="module")
def decoder(tmp_path_factory):
    """A tiny decoder file with its config, and one whose config does not match its weights."""
    folder = tmp_path_factory.mktemp("decoders")
    keras.utils.set_random_seed(3)
    model = AdaINModel("vgg16", weights=None, decoder_width=0.125, encoder_layer="block2_conv1")
    path, _ = export_decoder(model, folder / "tiny.weights.h5", steps=0)
    (folder / "wrong.weights.h5").write_bytes(path.read_bytes())
    (folder / "wrong.json").write_text('{"backbone": "vgg16", "encoder_layer": "block2_conv1", '
                                       '"decoder_width": 0.5, "encoder_weights": null}')
    return path


@pytest.fixture
def files(tmp_path):
    """content.png (37x45, odd), style.png, out/ (empty)."""
    save_image(tmp_path / "content.png", smooth_image(37, 45, 0))
    save_image(tmp_path / "style.png", smooth_image(40, 32, 1))
    (tmp_path / "out").mkdir()
    return tmp_path


def run(capsys, *args):
    """Exit code, stdout lines, stderr lines of `tfstyle adain ARGS` (argparse errors included)."""
    try:
        code = main(["adain", *map(str, args)])
    except SystemExit as exit:
        code = exit.code
    captured = capsys.readouterr()
    return code, captured.out.splitlines(), captured.err.splitlines()


# --- help ----------------------------------------------------------------------------------------------------------

def test_help_lists_the_controls(capsys):
    code, out, _ = run(capsys, "--help")
    text = " ".join(" ".join(out).split())
    assert code == 0 and text.startswith("usage: tfstyle adain")
    for option in ("--decoder", "--alpha", "--style-weights", "--preserve-colors", "--mask", "--max-size",
                   "--style-size", "--batch-size", "--fps"):
        assert option in text


def test_help_does_not_import_tensorflow():
    code = textwrap.dedent("""
        import contextlib, io, sys
        from tfstyle.cli.main import build_parser
        with contextlib.redirect_stdout(io.StringIO()) as out:
            try:
                build_parser().parse_args(["adain", "--help"])
            except SystemExit:
                pass
        assert "usage: tfstyle adain" in out.getvalue()
        print(sorted(name for name in ("tensorflow", "keras") if name in sys.modules))
    """)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


# --- real runs -----------------------------------------------------------------------------------------------------

def test_one_image_keeps_its_odd_size(capsys, files, decoder):
    target = files / "out" / "result.jpg"
    code, out, err = run(capsys, files / "content.png", files / "style.png", "-o", target, "--decoder", decoder,
                         "--alpha", "0.5", "--preserve-colors", "coral")
    assert (code, err) == (0, [])
    assert out[0] == f"wrote {target}  (45x37)"
    assert re.fullmatch(rf"1 image in \d+\.\d\d s, decoder {re.escape(str(decoder))}", out[1])
    with Image.open(target) as image:
        assert image.format == "JPEG" and image.size == (45, 37)


def test_two_styles_with_weights_or_a_mask_and_an_output_folder(capsys, files, decoder):
    mask = np.zeros((74, 90), bool)
    mask[:, :45] = True
    save_image(files / "mask.png", mask)
    save_image(files / "style2.png", smooth_image(30, 30, 2))
    args = [files / "content.png", files / "style.png", files / "style2.png", "--decoder", decoder]
    code, out, err = run(capsys, *args, "-o", files / "out", "--style-weights", "1,3", "--max-size", "32")
    assert (code, err) == (0, [])
    assert out[0] == f"wrote {files / 'out' / 'content.png'}  (32x26)"
    code, out, err = run(capsys, *args, "-o", files / "out" / "masked.png", "--mask", files / "mask.png")
    assert (code, err) == (0, [])
    assert sorted(path.name for path in (files / "out").iterdir()) == ["content.png", "masked.png"]


def test_folder_mode_names_outputs_after_inputs_and_reports_skips(capsys, files, decoder):
    source = files / "photos"
    source.mkdir()
    save_image(source / "a.jpg", smooth_image(20, 30, 3))
    save_image(source / "b.png", smooth_image(20, 30, 4))
    (source / "notes.txt").write_text("not an image\n")
    code, out, err = run(capsys, source, files / "style.png", "-o", files / "out", "--decoder", decoder,
                         "--batch-size", "2")
    assert code == 1  # something was skipped
    assert out[:2] == [f"wrote {files / 'out' / 'a.jpg'}", f"wrote {files / 'out' / 'b.png'}"]
    assert re.fullmatch(r"2 images in \d+\.\d\d s \(\d+\.\d{3} s per image, 1 skipped\), decoder .*", out[2])
    assert err == [f"skipped {source / 'notes.txt'}: not an image (Pillow cannot identify it): "
                   f"{source / 'notes.txt'}"]
    assert sorted(path.name for path in (files / "out").iterdir()) == ["a.jpg", "b.png"]


def test_frames_to_gif_and_gif_to_frames(capsys, files, decoder):
    import imageio.v3 as iio

    frames = files / "frames"
    frames.mkdir()
    for index in range(3):
        save_image(frames / f"{index:03d}.png", smooth_image(19, 25, index))
    clip = files / "out" / "clip.gif"
    code, out, err = run(capsys, frames, files / "style.png", "-o", clip, "--decoder", decoder, "--fps", "5",
                         "--no-progress")
    assert (code, err) == (0, [])
    assert out[0] == f"wrote {clip}  (3 frames at 5 fps)"
    assert re.fullmatch(r"3 frames in \d+\.\d\d s \(\d+\.\d{3} s per frame\), decoder .*", out[1])
    assert iio.improps(clip).shape == (3, 19, 25, 3)

    back = files / "back"
    back.mkdir()
    code, out, err = run(capsys, clip, files / "style.png", "-o", back, "--decoder", decoder)
    assert code == 0
    assert out[0] == f"wrote {back}  (3 frames at 5 fps)"
    assert sorted(path.name for path in back.iterdir()) == ["frame_000001.png", "frame_000002.png",
                                                            "frame_000003.png"]


# --- bad input: one line, exit 2, nothing written ------------------------------------------------------------------

def _bad_cases():
    """(arguments with {tmp}, {out}, {decoder}, {wrong} placeholders, the exact error line after the prefix)."""
    image = ["{tmp}/content.png", "{tmp}/style.png"]
    return [
        pytest.param(["{tmp}/missing.png", "{tmp}/style.png", "-o", "{out}/o.png"],
                     "image not found: {tmp}/missing.png", id="missing-content"),
        pytest.param(["{tmp}/content.png", "{tmp}/missing.png", "-o", "{out}/o.png"],
                     "image not found: {tmp}/missing.png", id="missing-style"),
        pytest.param(["{tmp}/content.png", "{tmp}/fake.png", "-o", "{out}/o.png"],
                     "not an image (Pillow cannot identify it): {tmp}/fake.png", id="style-not-an-image"),
        pytest.param([*image, "-o", "{out}/o.png", "--alpha", "1.5"],
                     "argument --alpha: must be a number in [0, 1], got 1.5 (see --help)", id="alpha-range"),
        pytest.param([*image, "-o", "{out}/o.png", "--alpha", "strong"],
                     "argument --alpha: expected a number, got 'strong' (see --help)", id="alpha-text"),
        pytest.param([*image, "-o", "{out}/o.png", "--style-weights", "1,2"],
                     "--style-weights has 2 values for 1 style images", id="weights-count"),
        pytest.param([*image, "{tmp}/style.png", "-o", "{out}/o.png", "--style-weights", "1,1", "--mask",
                      "{tmp}/mask.png"],
                     "--style-weights blend the styles everywhere and --mask gives each style its own region: give "
                     "one or the other", id="weights-and-mask"),
        pytest.param([*image, "{tmp}/style.png", "-o", "{out}/o.png", "--style-weights", "0,0"],
                     "style weights must not all be 0", id="weights-zero"),
        pytest.param([*image, "-o", "{out}/o.png", "--mask", "{tmp}/mask.png,{tmp}/mask.png"],
                     "--mask has 2 images for 1 style images; give one mask per style image or a single mask",
                     id="mask-count"),
        pytest.param([*image, "-o", "{out}/o.png", "--mask", "{tmp}/tall.png"],
                     "the mask is 20x40 pixels but the content image is 45x37: a mask must have the content image's "
                     "aspect ratio", id="mask-aspect"),
        pytest.param([*image, "-o", "{out}/nodir/o.png"], "output folder does not exist: {out}/nodir",
                     id="missing-output-folder"),
        pytest.param([*image, "-o", "{out}/o.xyz"],
                     "unsupported output format '.xyz' (use .png, .jpg, .jpeg, .webp, .bmp, .tif, .tiff): {out}/o.xyz",
                     id="unsupported-extension"),
        pytest.param(["{tmp}/photos", "{tmp}/style.png", "-o", "{out}/nodir"], "output folder does not exist: "
                     "{out}/nodir", id="folder-output-missing"),
        pytest.param(["{tmp}/photos", "{tmp}/style.png", "-o", "{tmp}/photos"],
                     "the output folder is the content folder: the results would replace the inputs: {tmp}/photos",
                     id="folder-into-itself"),
        pytest.param(["{tmp}/clip.gif", "{tmp}/style.png", "-o", "{out}/frames.png"] + ["--decoder", "{decoder}"],
                     None, id="gif-to-image-is-an-image"),
        pytest.param(["{tmp}/photos", "{tmp}/style.png", "-o", "{out}/clip.xyz.gif", "--decoder", "{tmp}/none.h5"],
                     "a decoder file ends in .weights.h5 (with its .json config next to it); Received: {tmp}/none.h5",
                     id="decoder-not-weights-file"),
        pytest.param([*image, "-o", "{out}/o.png", "--decoder", "{tmp}/none.weights.h5"],
                     "decoder weights file not found: {tmp}/none.weights.h5", id="decoder-missing"),
        pytest.param([*image, "-o", "{out}/o.png", "--decoder", "{wrong}"],
                     "cannot load decoder weights from {wrong} into adain_decoder (encoder_layer=block2_conv1, "
                     "decoder_width=0.5): ", id="decoder-mismatch"),
        pytest.param([*image, "-o", "{out}/o.png", "--decoder", "no/such dir/x.weights.h5"],
                     "decoder weights file not found: no/such dir/x.weights.h5", id="decoder-relative-missing"),
    ]


@pytest.mark.parametrize("args,message", _bad_cases())
def test_bad_input_is_one_line_exit_2_and_writes_nothing(capsys, files, decoder, args, message):
    (files / "fake.png").write_text("not a PNG\n")
    save_image(files / "mask.png", np.ones((37, 45)))
    save_image(files / "tall.png", np.ones((40, 20)))
    (files / "photos").mkdir()
    save_image(files / "photos" / "a.png", smooth_image(16, 16, 0))
    Image.fromarray(np.uint8(smooth_image(16, 16, 0) * 255)).save(files / "clip.gif")  # one frame
    fill = {"tmp": files, "out": files / "out", "decoder": decoder,
            "wrong": decoder.with_name("wrong.weights.h5")}
    args = [arg.format(**fill) for arg in args]
    if "--decoder" not in args:
        args += ["--decoder", str(decoder)]
    code, out, err = run(capsys, *args)
    if message is None:  # a one-frame GIF with an image output is simply an image
        assert code == 0 and out[0].startswith("wrote ")
        return
    assert (code, out, len(err)) == (2, [], 1), err
    prefix = "tfstyle adain: error: "
    expected = prefix + message.format(**fill)
    assert err[0] == expected if not expected.endswith(": ") else err[0].startswith(expected)
    assert list((files / "out").iterdir()) == []


def test_default_decoder_missing_says_what_to_do(capsys, files, tmp_path, monkeypatch):
    empty = tmp_path / "no-weights"
    empty.mkdir()
    monkeypatch.setattr(pretrained, "WEIGHTS_DIR", empty)
    code, out, err = run(capsys, files / "content.png", files / "style.png", "-o", files / "out" / "o.png")
    assert (code, out) == (2, [])
    assert err == [f"tfstyle adain: error: no shipped AdaIN decoder named 'vgg16_hed' in {empty}; train one with "
                   f"`tfstyle train-adain` or pass --decoder PATH"]
    assert list((files / "out").iterdir()) == []


def test_shipped_decoder_by_name(capsys, files, decoder, tmp_path, monkeypatch):
    shipped = tmp_path / "shipped"
    shipped.mkdir()
    weights, config = pretrained.shipped_files("tiny", shipped)
    weights.write_bytes(decoder.read_bytes())
    config.write_text(decoder.with_suffix("").with_suffix(".json").read_text())
    monkeypatch.setattr(pretrained, "WEIGHTS_DIR", shipped)
    target = files / "out" / "o.png"
    code, out, err = run(capsys, files / "content.png", files / "style.png", "-o", target, "--decoder", "tiny")
    assert (code, err) == (0, [])
    assert out[0] == f"wrote {target}  (45x37)" and out[1].endswith(", decoder tiny")


def test_a_failed_run_leaves_an_existing_output_alone(capsys, files, decoder):
    target = files / "out" / "o.png"
    save_image(target, smooth_image(10, 10, 9))
    before = target.read_bytes()
    save_image(files / "tall.png", np.ones((40, 20)))
    code, _, err = run(capsys, files / "content.png", files / "style.png", "-o", target, "--decoder", decoder,
                       "--mask", files / "tall.png")
    assert code == 2 and len(err) == 1
    assert target.read_bytes() == before
    assert sorted(path.name for path in (files / "out").iterdir()) == ["o.png"]


def test_mp4_without_a_backend_is_one_line(capsys, files, decoder, no_imageio_ffmpeg):
    (files / "frames").mkdir()
    save_image(files / "frames" / "1.png", smooth_image(16, 16, 0))
    code, out, err = run(capsys, files / "frames", files / "style.png", "-o", files / "out" / "clip.mp4",
                         "--decoder", decoder)
    assert (code, out) == (2, [])
    assert err == ["tfstyle adain: error: writing .mp4 video needs the imageio-ffmpeg package (pip install "
                   "imageio-ffmpeg); .gif and folders of frames work without it"]
    assert list((files / "out").iterdir()) == []


def test_video_to_an_image_file_is_refused(capsys, files, decoder):
    (files / "clip.mp4").write_bytes(b"")
    code, out, err = run(capsys, files / "clip.mp4", files / "style.png", "-o", files / "out" / "o.png",
                         "--decoder", decoder)
    assert (code, out) == (2, [])
    assert err == ["tfstyle adain: error: a video becomes a video file (.gif, .mp4, .m4v, .mov, .avi, .mkv, .webm) "
                   f"or an existing folder of frames; Received: -o {files / 'out' / 'o.png'}"]
