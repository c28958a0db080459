"""The command line: options mapped onto the pipeline, nothing more."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING

import click

from guidedeck import __version__
from guidedeck.diagnostics import Diagnostic, GuideError, Severity, count
from guidedeck.kinds import CardKind

# The pipeline's modules (markdown-it, PyYAML, Pygments, genanki, nh3) load inside the commands
# that use them, so `guidedeck --help` costs little more than importing click.
if TYPE_CHECKING:
    from pathlib import Path

    from guidedeck.build import BuildReport
    from guidedeck.config import PackageConfig
    from guidedeck.guides import GuideFile


def _as_paths(ctx: click.Context, param: click.Parameter, value: object) -> object:
    """Strings from the command line as :class:`pathlib.Path` (imported once a command runs)."""
    from pathlib import Path

    if isinstance(value, tuple):
        return tuple(Path(v) for v in value)
    return Path(str(value))


PATHS = click.argument("paths", nargs=-1, type=click.Path(), callback=_as_paths)
STRICT = click.option("--strict", is_flag=True, help="Treat warnings as errors.")


def default_source() -> Path:
    """``./deck_source`` when there is one, else the sample shipped with guidedeck."""
    from pathlib import Path

    from guidedeck.resources import data_dir

    local = Path("deck_source")
    return local if local.is_dir() else data_dir("deck_source")


def _load(paths: Sequence[Path]) -> list[GuideFile]:
    from guidedeck.guides import read_guides

    return list(read_guides(paths or [default_source()]))


def report(files: Sequence[GuideFile], strict: bool) -> None:
    """Print every problem as ``path:line:col: severity: message``; fail if the build must."""
    report_diagnostics([d for f in files for d in f.diagnostics], strict)


def report_diagnostics(diagnostics: Sequence[Diagnostic], strict: bool) -> None:
    """Print ``diagnostics``; raise :class:`GuideError` (exit 1) on errors (or warnings, strict)."""
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


class _Guarded(click.Group):
    """A command group that reports an unexpected exception as a message, not a traceback."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except Exception as exc:
            raise GuideError(
                f"internal error: {exc!r}. This is a bug in guidedeck; please report it with "
                "the guide that caused it."
            ) from exc


@click.group(cls=_Guarded, context_settings={"help_option_names": ["-h", "--help"]})
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
    import json

    from guidedeck.listing import card_dict, summary

    files = _load(paths)
    cards = [
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


def _out_option(default: str, what: str) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """The ``--out`` folder option of the commands that write files."""
    return click.option(
        "--out", type=click.Path(), callback=_as_paths, default=default, show_default=True,
        help=f"Folder for the {what}.",
    )  # fmt: skip


@main.command(name="build")
@PATHS
@_out_option("build", ".apkg files")
@STRICT
@click.option(
    "--dry-run", is_flag=True, help="Say what would be added, changed and removed; write nothing."
)
@click.option(
    "--jobs",
    "-j",
    type=click.IntRange(min=1),
    default=None,
    help="Processes that read and render guides (default: one per core).",
)
def build_command(
    paths: tuple[Path, ...], out: Path, strict: bool, dry_run: bool, jobs: int | None
) -> None:
    """Build one .apkg per guide (PATHS), or what deck_source/decks.yaml describes."""
    from guidedeck.build import build

    _check_out(out)
    resolved = _packages(paths, strict)
    if resolved is None:
        return
    packages, prefix = resolved
    total = sum(len(p.guides) for p in packages)
    with _progress(total) as advance:
        result = build(
            packages,
            out,
            prefix=prefix,
            strict=strict,
            dry_run=dry_run,
            on_guide=advance,
            jobs=jobs or os.cpu_count() or 1,
            roots=paths or [default_source()],
        )
    _summary(result)
    _removed(result)
    report_diagnostics(result.diagnostics, strict)


def _check_out(out: Path) -> None:
    if out.exists() and not out.is_dir():
        raise GuideError(f"{out}: output path is a file, not a folder")


def _packages(paths: Sequence[Path], strict: bool) -> tuple[list[PackageConfig], str] | None:
    """Packages to make: one per guide named on the command line, or decks.yaml's."""
    from guidedeck.config import DEFAULT_PREFIX, ConfigError, default_package, load
    from guidedeck.guides import discover

    if paths:
        files, problems = discover(paths)
        if problems:
            report_diagnostics(problems, strict)
        return [default_package(path) for path in files], DEFAULT_PREFIX
    try:
        config = load(default_source() / "decks.yaml")
    except ConfigError as exc:
        report_diagnostics(exc.diagnostics, strict)
        return None
    return list(config.packages), config.deck_prefix


@main.command(name="preview")
@PATHS
@_out_option("build/preview", "HTML pages")
@click.option("--open", "open_page", is_flag=True, help="Open the preview in a browser.")
@STRICT
def preview_command(paths: tuple[Path, ...], out: Path, open_page: bool, strict: bool) -> None:
    """Write an offline HTML preview of every card, front and back, at phone width."""
    from guidedeck.preview import preview

    _check_out(out)
    resolved = _packages(paths, strict)
    if resolved is None:
        return
    packages, prefix = resolved
    report = preview(packages, out, prefix=prefix, strict=strict)
    cards = sum(len(deck.cards) for deck in report.decks)
    if report.index is not None:
        click.echo(f"{len(report.decks)} deck(s), {cards} card(s): {report.index}")
    report_diagnostics(report.diagnostics, strict)
    if open_page and report.index is not None:
        click.launch(str(report.index))


@contextmanager
def _progress(total: int) -> Iterator[Callable[[Path], None]]:
    """A progress bar on a terminal for multi-guide builds; nothing otherwise."""
    stream = sys.stderr
    if total < 2 or not stream.isatty():
        yield lambda _path: None
        return
    with click.progressbar(length=total, label="Building", file=stream) as bar:
        yield lambda _path: bar.update(1)


def _summary(result: BuildReport) -> None:
    kinds = list(CardKind)
    states = ["added", "changed", "unchanged", "removed"]
    head = ["guide", *[k.value for k in kinds], *states, "warnings", "package"]
    rows: list[list[str]] = []
    totals = [0] * (len(kinds) + len(states))
    for pkg in result.packages:
        for guide in pkg.guides:
            numbers = [guide.counts[k] for k in kinds] + [guide.status[s] for s in states]
            totals = [a + b for a, b in zip(totals, numbers, strict=True)]
            warnings = count(guide.diagnostics, Severity.WARNING)
            if result.dry_run:
                target = "dry run: nothing written"
            else:
                target = str(pkg.output) if pkg.written else "not written"
            rows.append([guide.path.name, *map(str, numbers), str(warnings), target])
    rows.append(["total", *map(str, totals), str(count(result.diagnostics, Severity.WARNING)), ""])
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(len(head))]
    for row in [head, *rows]:
        cells = [row[0].ljust(widths[0])]
        cells += [c.rjust(w) for c, w in zip(row[1:-1], widths[1:-1], strict=True)]
        cells.append(row[-1])
        click.echo("  ".join(cells).rstrip())
    written = sum(p.written for p in result.packages)
    verb = "would be written (dry run)" if result.dry_run else "written"
    done = len(result.packages) if result.dry_run else written
    click.echo(f"{done} of {len(result.packages)} package(s) {verb} in {result.seconds:.2f} s")


def _removed(result: BuildReport) -> None:
    """Say which notes left the guides, with an Anki search that finds exactly them."""
    tense = "would be" if result.dry_run else "are"
    for where, number, search in result.removed_searches():
        click.echo(
            f"{number} note(s) {tense} no longer in {where}; your decks keep them until you "
            "delete them. Find them in Anki (Browse) with:"
        )
        click.echo(f"  {search}")
    for notice in result.notices:
        click.echo(notice)
