"""Allow ``python -m guidedeck``."""

from guidedeck.cli import main

main()
