"""Test-session environment: no test may download anything, and a developer's Keras cache must not matter.

The variables are set at import time, before any test module imports TensorFlow or Keras:
- `TFSTYLE_OFFLINE=1`: tfstyle never tries to fetch ImageNet weights (`auto` resolves to `vgg16_hed`).
- `KERAS_HOME`: a fresh, empty folder for the session, so ImageNet weights cached in `~/.keras` do not change
  what `weights_status`, `resolve_backbone("auto")` or `tfstyle backbones` report.
- `TF_CPP_MIN_LOG_LEVEL=3`: keep TensorFlow's C++ start-up chatter out of the test output.
"""

import importlib.util
import os
import pathlib
import tempfile

import pytest

os.environ["TFSTYLE_OFFLINE"] = "1"
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
os.environ["KERAS_HOME"] = tempfile.mkdtemp(prefix="tfstyle-tests-keras-home-")

DATA_ENV = "TFSTYLE_DATA"
DEFAULT_DATA_DIR = pathlib.Path(__file__).resolve().parents[1] / ".." / "shared" / "data"


@pytest.fixture(scope="session")
def data_dir():
    """The shared photos and paintings (`content/`, `style/`, `mask/`): `$TFSTYLE_DATA` or `../shared/data`.

    Tests that use it are skipped when the folder is absent (the images are never part of the repository).
    """
    path = pathlib.Path(os.environ.get(DATA_ENV) or DEFAULT_DATA_DIR).resolve()
    if not path.is_dir():
        pytest.skip(f"shared data folder not found: {path} (set {DATA_ENV})")
    return path


@pytest.fixture
def no_imageio_ffmpeg(monkeypatch):
    """Make `imageio-ffmpeg` look not installed (the test extra installs it), for the "needs it" messages."""
    find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *args: None if name == "imageio_ffmpeg" else find_spec(name, *args))
