"""Quiet by default: what TensorFlow, absl and LiteRT print natively goes to our log, not stderr.

TensorFlow (2.21) writes lines such as ``I0000 ... cudart_stub.cc ... Could not find cuda
drivers`` and ``E0000 ... failed call to cuInit`` straight to file descriptor 2 while it is
imported, before it reads ``TF_CPP_MIN_LOG_LEVEL``; LiteRT prints ``INFO: Created TensorFlow
Lite XNNPACK delegate for CPU.`` when its first interpreter is made. None of these can be
switched off from Python, so the few places that trigger them run under :func:`captured`:
file descriptor 2 goes to a temporary file meanwhile, and what was written there is logged
(logger ``person_segmentation``, level DEBUG) instead of printed. Later TensorFlow messages are
filtered by ``TF_CPP_MIN_LOG_LEVEL`` (set to ``"3"`` before TensorFlow is imported, unless the
user set it) and by the ``tensorflow`` / ``absl`` Python loggers (raised to ERROR).

:func:`set_verbose` (the CLI's ``-v``) turns all of this off: everything is printed as it comes.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import tempfile
import threading
from collections.abc import Iterator
from typing import Any

_log = logging.getLogger("person_segmentation")

_TF_LOG_ENV = "TF_CPP_MIN_LOG_LEVEL"
_lock = threading.RLock()
_verbose = False


def set_verbose(verbose: bool) -> None:
    """Show (True) or hide (False, the default) native log lines of TensorFlow and LiteRT.
    Takes effect for what happens after the call (TensorFlow's log level is read once, when
    it is imported)."""
    global _verbose
    _verbose = bool(verbose)


def verbose() -> bool:
    """Whether native log lines are shown (:func:`set_verbose`)."""
    return _verbose


@contextlib.contextmanager
def captured(what: str) -> Iterator[None]:
    """Run the block with file descriptor 2 redirected to a temporary file (unless verbose),
    then log what it received at DEBUG, naming ``what``. Other threads writing to stderr
    meanwhile are captured too, so only short, rare steps (an import, a first interpreter, a
    conversion) run under it. Falls back to doing nothing where fd 2 cannot be redirected."""
    if _verbose:
        yield
        return
    with _lock:
        try:
            sys.stderr.flush()
        except (AttributeError, OSError, ValueError):
            pass
        try:
            saved = os.dup(2)
        except OSError:
            yield
            return
        try:
            sink = tempfile.TemporaryFile()
        except OSError:
            os.close(saved)
            yield
            return
        with sink:
            os.dup2(sink.fileno(), 2)
            try:
                yield
            finally:
                os.dup2(saved, 2)
                os.close(saved)
                sink.seek(0)
                text = sink.read(1 << 20).decode("utf-8", "replace").strip()
                if text:
                    _log.debug("native output while %s:\n%s", what, text)


def import_tensorflow() -> Any:
    """``import tensorflow``, quietly: ``TF_CPP_MIN_LOG_LEVEL`` defaults to ``"3"`` (a value
    the user set is kept), the import's own lines are captured (:func:`captured`) and the
    ``tensorflow`` and ``absl`` Python loggers are raised to ERROR. Verbose: a plain import."""
    already: Any = sys.modules.get("tensorflow")
    if already is not None:
        return already
    if _verbose:
        import tensorflow

        return tensorflow
    os.environ.setdefault(_TF_LOG_ENV, "3")
    with captured("importing TensorFlow"):
        import tensorflow
    for name in ("tensorflow", "absl"):
        logger = logging.getLogger(name)
        if logger.level in (logging.NOTSET, logging.WARNING):  # the defaults; a user's own level is kept
            logger.setLevel(logging.ERROR)
    return tensorflow
