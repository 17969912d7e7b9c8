"""Ctrl-C that waits for the end of the current step, shared by every long-running loop (optimization, training).

The first Ctrl-C is only noted; the loop calls `check()` after each step, where it becomes a KeyboardInterrupt,
so that what the loop saves next (an image, a checkpoint) belongs to a finished step. A second Ctrl-C interrupts
at once, for a user who does not want to wait.

Example:
    >>> with InterruptAtStepEnd() as interrupt:
    ...     for step in range(steps):
    ...         train_one_step()
    ...         interrupt.check()          # raises KeyboardInterrupt after a Ctrl-C
"""

import signal
import threading


class InterruptAtStepEnd:
    """The first Ctrl-C is noted and raised at the end of the current step; a second one interrupts at once.

    Only installed in the main thread and when Python's default SIGINT handler is active (a notebook kernel or
    an embedding program that handles SIGINT itself keeps its handler).
    """

    def __enter__(self):
        self.requested = False
        self.previous = None
        if (threading.current_thread() is threading.main_thread()
                and signal.getsignal(signal.SIGINT) is signal.default_int_handler):
            self.previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def _handle(self, signum, frame):
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True

    def check(self):
        if self.requested:
            raise KeyboardInterrupt

    def __exit__(self, *exc):
        if self.previous is not None:
            signal.signal(signal.SIGINT, self.previous)
        return False
