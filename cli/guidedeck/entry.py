"""The ``guidedeck`` command's entry point: Ctrl-C and SIGTERM end it with one line, always.

It is kept apart from :mod:`guidedeck.cli` so that the signal handling is in place before any
heavier module is imported: an interrupt while Python is still importing must not print a
traceback either.
"""

from __future__ import annotations

import signal
import sys

INTERRUPTED = (
    "interrupted: nothing half-written is left; every deck and lock file is as before the "
    "build or as built"
)


class Terminated(BaseException):
    """SIGTERM arrived: unwinds like Ctrl-C, so temporary files are removed on the way out."""


def _terminate(signum: int, frame: object) -> None:
    raise Terminated()


def run() -> None:
    """Run the command line; exit 130 on Ctrl-C and 143 on SIGTERM, with one line each."""
    signal.signal(signal.SIGTERM, _terminate)
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
