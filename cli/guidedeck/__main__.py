"""Allow ``python -m guidedeck``."""

from guidedeck.entry import run

run()
