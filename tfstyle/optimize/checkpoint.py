"""Checkpoints of one image optimization: the image, the optimizer's state, the step and the loss history.

A run's folder holds `tf.train.Checkpoint` files (the image and step as variables, plus the Keras Adam optimizer's
moments and iteration count) managed by `tf.train.CheckpointManager`, next to `history.json` (the per-step loss
terms, so a resumed run reports the whole run) and `run.json` (what the run was, so that resuming with other options
is refused instead of silently mixing two runs).

Adam resumes exactly: its state is its variables. L-BFGS resumes from the saved image and step with an empty
curvature memory, because SciPy's L-BFGS-B keeps its correction pairs and line-search state inside the
Fortran/C driver and does not expose them; the memory refills within `lbfgs_memory` iterations (the difference this
makes is measured in docs/resume.md).
"""

import json
import os
import pathlib

from tfstyle.errors import OptionError
from tfstyle.io import save_json

_HISTORY = "history.json"
_RUN = "run.json"


class RunCheckpoint:
    """Save and restore one optimization run in a folder.

    Args:
        directory: folder of the run's checkpoints (created on the first save).
        every: save every `every` steps and when the run finishes; 0 saves only when it is interrupted (Ctrl-C).
        keep: how many checkpoints to keep.
        fingerprint: a JSON-able dict describing the run (options that change the result). A folder made with a
            different fingerprint is refused with an `OptionError` naming the first difference.
        save_when_done: also save when the run finishes (default: when `every` > 0), so that it can be extended
            or, for a level of a pyramid, skipped on resume.

    Example:
        >>> checkpoint = RunCheckpoint("runs/astronaut", every=50, fingerprint={"size": 512})
        >>> optimize_image(objective, init, checkpoint=checkpoint)   # Ctrl-C, then run the same line again
    """

    def __init__(self, directory, every=0, keep=2, fingerprint=None, save_when_done=None):
        if int(every) < 0:
            raise OptionError(f"checkpoint_every must be zero or positive; received {every}")
        self.directory = pathlib.Path(directory)
        self.every = int(every)
        self.keep = max(1, int(keep))
        self.save_when_done = self.every > 0 if save_when_done is None else bool(save_when_done)
        # as it will read back from run.json (tuples become lists), so that comparisons are like for like
        self.fingerprint = json.loads(json.dumps(fingerprint or {}, default=str))
        self._manager = None
        self._checkpoint = None

    def exists(self):
        """True when the folder holds a saved checkpoint."""
        import tensorflow as tf

        return self.directory.is_dir() and tf.train.latest_checkpoint(os.fspath(self.directory)) is not None

    def check_fingerprint(self):
        """Raise `OptionError` if the folder was made by a run with different options."""
        path = self.directory / _RUN
        if not path.is_file():
            return
        try:
            saved = json.loads(path.read_text())
        except (OSError, ValueError) as error:
            raise OptionError(f"cannot read {path}: {error}") from None
        for key in sorted(set(saved) | set(self.fingerprint)):
            if saved.get(key) != self.fingerprint.get(key):
                raise OptionError(f"the checkpoint in {self.directory} was made with {key}={saved.get(key)!r}, "
                                  f"this run has {key}={self.fingerprint.get(key)!r}; use the same options or "
                                  f"another checkpoint folder")

    def attach(self, **objects):
        """Track `objects` (TensorFlow variables, a Keras optimizer) in the checkpoint; call once per run."""
        import tensorflow as tf

        self._checkpoint = tf.train.Checkpoint(**objects)
        self._manager = tf.train.CheckpointManager(self._checkpoint, os.fspath(self.directory),
                                                   max_to_keep=self.keep)

    def restore(self):
        """Restore the latest checkpoint into the attached objects; returns the saved history, or None."""
        if self._manager is None:
            raise RuntimeError("attach() the objects to restore first")
        latest = self._manager.latest_checkpoint
        if latest is None:
            return None
        self.check_fingerprint()
        self._checkpoint.restore(latest).assert_existing_objects_matched()
        path = self.directory / _HISTORY
        return json.loads(path.read_text()) if path.is_file() else {}

    def due(self, step):
        return self.every > 0 and step % self.every == 0

    def save(self, step, history):
        """Write a checkpoint of the attached objects and the history (each file replaced atomically)."""
        if self._manager is None:
            raise RuntimeError("attach() the objects to save first")
        self.directory.mkdir(parents=True, exist_ok=True)
        save_json(self.directory / _RUN, self.fingerprint)
        save_json(self.directory / _HISTORY, history)
        return self._manager.save(checkpoint_number=int(step))

