"""Start TensorFlow for a CLI command without its start-up noise on the terminal."""

import os
import sys
import tempfile


def import_tensorflow_quietly():
    """Import TensorFlow and Keras and initialise the devices with stderr captured.

    On a CPU-only machine TensorFlow's C++ start-up prints several lines (no CUDA drivers, CPU instructions,
    absl initialisation) that `TF_CPP_MIN_LOG_LEVEL` alone does not silence and that users mistake for errors.
    They are discarded when the import succeeds and replayed when it fails, so real problems stay visible.
    """
    if "tensorflow" in sys.modules:
        return
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as captured:
        os.dup2(captured.fileno(), 2)
        try:
            import keras  # noqa: F401
            import tensorflow as tf

            tf.config.list_physical_devices()
            tf.constant(0.0) + 1.0  # the first op initialises the devices, which logs too
        except BaseException:
            os.dup2(saved, 2)
            captured.seek(0)
            sys.stderr.write(captured.read().decode(errors="replace"))
            raise
        finally:
            os.dup2(saved, 2)
            os.close(saved)
