"""The ``guidedeck`` command's entry point: Ctrl-C and SIGTERM end it with one line, always.

It is kept apart from :mod:`guidedeck.cli` so that the signal handling is in place before any
heavier module is imported: an interrupt while Python is still importing must not print a
traceback either.
"""

from __future__ import annotations

import os
import signal
import sys
import threading

INTERRUPTED = (
    "interrupted: nothing half-written is left; every deck and lock file is as before the "
    "build or as built"
)


class Terminated(BaseException):
    """SIGTERM arrived: unwinds like Ctrl-C, so temporary files are removed on the way out."""


GRACE = 20.0
"""Seconds a stopped command may take to unwind before it ends regardless: an exception raised
by a signal handler can land inside the worker pool's own locks, and its shutdown then waits
forever (seen once in CI, with SIGTERM mid-build at -j 2). Nothing is half-written either way:
files are renamed into place with these signals held, and temporary ones go with the next
build."""


def _deadline(code: int, said: str) -> None:
    """End the process with ``code`` if unwinding has not ended it within :data:`GRACE`."""

    def force() -> None:
        sys.stderr.write(said + "\n")
        sys.stderr.flush()
        os._exit(code)

    timer = threading.Timer(GRACE, force)
    timer.daemon = True  # a command that unwinds in time exits without waiting for it
    timer.start()


def _terminate(signum: int, frame: object) -> None:
    _deadline(143, INTERRUPTED.replace("interrupted", "terminated"))
    raise Terminated()


def _interrupt(signum: int, frame: object) -> None:
    _deadline(130, INTERRUPTED)
    raise KeyboardInterrupt


def run() -> None:
    """Run the command line; exit 130 on Ctrl-C and 143 on SIGTERM, with one line each."""
    signal.signal(signal.SIGTERM, _terminate)
    signal.signal(signal.SIGINT, _interrupt)
    try:
        import click

        from guidedeck.cli import main

        try:
            code = main.main(standalone_mode=False)
        except click.ClickException as exc:
            exc.show()
            code = exc.exit_code
        except click.exceptions.Exit as exc:
            code = exc.exit_code
        except click.Abort:
            click.echo("Aborted!", err=True)
            code = 1
    except KeyboardInterrupt:
        print(INTERRUPTED, file=sys.stderr)
        code = 130
    except Terminated:
        print(INTERRUPTED.replace("interrupted", "terminated"), file=sys.stderr)
        code = 143
    sys.exit(code if isinstance(code, int) else 0)


__all__ = ["INTERRUPTED", "Terminated", "run"]
