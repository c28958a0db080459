"""The command line: options mapped onto the pipeline, nothing more."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import click

from guidedeck import __version__
from guidedeck.diagnostics import Diagnostic, GuideError, Severity, count
from guidedeck.guides import GuideFile, read_guides
from guidedeck.listing import card_dict, summary
from guidedeck.models import Card, CardKind
from guidedeck.resources import data_dir

PATHS = click.argument(
    "paths", nargs=-1, type=click.Path(path_type=Path, dir_okay=True, file_okay=True)
)
STRICT = click.option("--strict", is_flag=True, help="Treat warnings as errors.")


def default_source() -> Path:
    """``./deck_source`` when there is one, else the sample shipped with guidedeck."""
    local = Path("deck_source")
    return local if local.is_dir() else data_dir("deck_source")


def _load(paths: Sequence[Path]) -> list[GuideFile]:
    return list(read_guides(paths or [default_source()]))


def report(files: Sequence[GuideFile], strict: bool) -> None:
    """Print every problem as ``path:line:col: severity: message``; fail if the build must."""
    diagnostics: list[Diagnostic] = [d for f in files for d in f.diagnostics]
    for diagnostic in diagnostics:
        colour = "red" if diagnostic.severity is Severity.ERROR else "yellow"
        text = str(diagnostic)
        word = f": {diagnostic.severity.value}:"
        head, _, tail = text.partition(word)
        click.echo(head + click.style(word, fg=colour) + tail, err=True)
    errors = count(diagnostics, Severity.ERROR)
    warnings = count(diagnostics, Severity.WARNING)
    if errors or (strict and warnings):
        reason = "" if errors else " (--strict)"
        raise GuideError(f"{errors} error(s), {warnings} warning(s){reason}")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="guidedeck")
def main() -> None:
    """Turn Markdown interview guides into Anki decks."""


@main.command()
@PATHS
@STRICT
def check(paths: tuple[Path, ...], strict: bool) -> None:
    """Parse guides and report problems (PATHS: guide files or folders; default deck_source/)."""
    files = _load(paths)
    report(files, strict)
    cards = sum(len(f.result.guide.cards) for f in files if f.result)
    guides = sum(1 for f in files if f.result)
    click.echo(f"{guides} guide(s), {cards} card(s): ok", err=True)


@main.command(name="list")
@PATHS
@click.option(
    "--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True
)
@click.option("--kind", type=click.Choice([k.value for k in CardKind]), help="Only this kind.")
@STRICT
def list_cards(paths: tuple[Path, ...], fmt: str, kind: str | None, strict: bool) -> None:
    """List the cards the guides would make."""
    files = _load(paths)
    cards: list[Card] = [
        c
        for f in files
        if f.result
        for c in f.result.guide.cards
        if kind is None or c.kind.value == kind
    ]
    if fmt == "json":
        click.echo(json.dumps([card_dict(c) for c in cards], indent=2, ensure_ascii=False))
    else:
        rows = [(c.kind.value, str(c.loc), summary(c)) for c in cards]
        width = max((len(r[1]) for r in rows), default=6)
        click.echo(f"{'KIND':<9} {'SOURCE':<{width}} CARD")
        for kind_name, source, text in rows:
            click.echo(f"{kind_name:<9} {source:<{width}} {text}")
    report(files, strict)
