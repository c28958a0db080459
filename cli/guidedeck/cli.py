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

# The pipeline's modules (markdown-it, PyYAML, Pygments, genanki, nh3) load inside the commands
# that use them, so `guidedeck --help` costs little more than importing click.
if TYPE_CHECKING:
    from pathlib import Path

    from guidedeck.build import BuildReport
    from guidedeck.inputs import Inputs
    from guidedeck.models import Card


def _as_paths(ctx: click.Context, param: click.Parameter, value: object) -> object:
    """Strings from the command line as :class:`pathlib.Path` (imported once a command runs)."""
    from pathlib import Path

    if value is None:
        return None
    if isinstance(value, tuple):
        return tuple(Path(v) for v in value)
    return Path(str(value))


PATHS = click.argument("paths", nargs=-1, type=click.Path(), callback=_as_paths)
STRICT = click.option("--strict", is_flag=True, help="Treat warnings as errors.")
ANKI_CONNECT = click.option(
    "--anki-connect", "connect", default=None, metavar="URL|off",
    help="Reach a running Anki through AnkiConnect at URL (default: http://127.0.0.1:8765 when "
    "it answers, else the collection file; $GUIDEDECK_ANKI_CONNECT; off: never).",
)  # fmt: skip
DIALECT = click.option(
    "--dialect",
    type=click.Choice(
        ["auto", "family", "choice", "numbered", "details", "heading-answer", "single-file"]
    ),
    default=None,
    help="The convention the guides are written in (default: decks.yaml's, else detected).",
)
NO_CACHE = click.option(
    "--no-cache",
    is_flag=True,
    help="Read, parse and render every guide, and package every deck, ignoring the cache in "
    "OUT/.guidedeck-cache (results are the same either way).",
)


def _inputs(paths: Sequence[Path], strict: bool, dialect: str | None = None) -> Inputs:
    """The packages a command works on (one rule for every command); input problems that stop
    a build (a missing guide, two packages writing one file) stop this command too."""
    from guidedeck.diagnostics import Severity
    from guidedeck.inputs import resolve

    _say_default(paths)
    inputs = resolve(paths, dialect)
    if any(d.severity is Severity.ERROR for d in inputs.problems):
        report_diagnostics(inputs.problems, strict)
    return inputs


def _say_default(paths: Sequence[Path]) -> None:
    """With no paths, say which of the defaults the command works on (one rule, inputs.py)."""
    if not paths:
        from guidedeck.inputs import default_source

        click.echo(f"using {default_source().said}", err=True)


def report_diagnostics(diagnostics: Sequence[Diagnostic], strict: bool) -> None:
    """Print ``diagnostics``; raise :class:`GuideError` (exit 1) on errors (or warnings, strict)."""
    for diagnostic in diagnostics:
        colour = {Severity.ERROR: "red", Severity.WARNING: "yellow"}.get(
            diagnostic.severity, "cyan"
        )
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
    """A command group that reports an unexpected exception as a message, not a traceback, and
    ends on Ctrl-C (exit 130) or SIGTERM (exit 143) with one line."""

    def invoke(self, ctx: click.Context) -> object:
        import signal

        from guidedeck.entry import INTERRUPTED, Terminated, _terminate

        previous = signal.signal(signal.SIGTERM, _terminate)
        try:
            return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except BrokenPipeError:
            # the reader went away (`guidedeck list | head`): nothing more to say, to anyone
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            raise click.exceptions.Exit(0) from None
        except KeyboardInterrupt:
            click.echo(INTERRUPTED, err=True)
            raise click.exceptions.Exit(130) from None
        except Terminated:
            click.echo(INTERRUPTED.replace("interrupted", "terminated"), err=True)
            raise click.exceptions.Exit(143) from None
        except Exception as exc:
            raise GuideError(
                f"internal error: {exc!r}. This is a bug in guidedeck; please report it with "
                "the guide that caused it."
            ) from exc
        finally:
            signal.signal(signal.SIGTERM, previous)


@click.group(cls=_Guarded, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="guidedeck")
def main() -> None:
    """Turn Markdown interview guides into Anki decks."""


def _out_option(default: str, what: str) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """The ``--out`` folder option of the commands that write (or, for check, read) files."""
    return click.option(
        "--out", type=click.Path(), callback=_as_paths, default=default, show_default=True,
        help=f"Folder for the {what}.",
    )  # fmt: skip


@main.command()
@PATHS
@_out_option("build", ".apkg files the build would write (their notes are matched)")
@STRICT
@DIALECT
@NO_CACHE
def check(
    paths: tuple[Path, ...], out: Path, strict: bool, dialect: str | None, no_cache: bool
) -> None:
    """Report every problem a build would meet, writing nothing (PATHS as for build).

    It runs the build itself without writing, so passing `check --strict` means `build --strict`
    writes every package.
    """
    from guidedeck.build import build
    from guidedeck.cache import Cache

    inputs = _inputs(paths, strict, dialect)
    _check_out(out, writing=False)
    result = build(
        inputs.packages, out, strict=strict, dry_run=True,
        roots=inputs.roots, cache=Cache.under(out, enabled=not no_cache, writable=False),
    )  # fmt: skip
    report_diagnostics([*inputs.problems, *result.diagnostics], strict)
    _dropped(result)
    guides = [g for p in result.packages for g in p.guides if g.title]
    cards = sum(sum(g.counts.values()) for g in guides)
    click.echo(f"{len({g.path for g in guides})} guide(s), {cards} card(s): ok", err=True)


@main.command(name="list")
@PATHS
@click.option(
    "--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True
)
@click.option("--kind", metavar="KIND", help="Only this kind (quiz, fact, contrast, scenario ...).")
@STRICT
@DIALECT
def list_cards(
    paths: tuple[Path, ...], fmt: str, kind: str | None, strict: bool, dialect: str | None
) -> None:
    """List the cards the guides would make."""
    import json

    from guidedeck.cards import KINDS
    from guidedeck.listing import card_dict, summary

    if kind is not None and kind not in KINDS:
        raise click.BadParameter(f"{kind!r} is not one of {', '.join(KINDS)}", param_hint="--kind")
    inputs = _inputs(paths, strict, dialect)
    cards, diagnostics = _listed(inputs, kind)
    if fmt == "json":
        click.echo(json.dumps([card_dict(c) for c in cards], indent=2, ensure_ascii=False))
    else:
        rows = [(c.kind.value, str(c.loc), summary(c)) for c in cards]
        width = max((len(r[1]) for r in rows), default=6)
        click.echo(f"{'KIND':<9} {'SOURCE':<{width}} CARD")
        for kind_name, source, text in rows:
            click.echo(f"{kind_name:<9} {source:<{width}} {text}")
    report_diagnostics([*inputs.problems, *diagnostics], strict)


def _listed(inputs: Inputs, kind: str | None) -> tuple[list[Card], list[Diagnostic]]:
    """Every guide's cards (of ``kind``) and problems, through the prepare stage a build uses
    (keeping the card models; no cache); a guide in several packages once."""
    from guidedeck.prepare import prepare

    cards: list[Card] = []
    diagnostics: list[Diagnostic] = []
    seen: set[Path] = set()
    for c in inputs.packages:
        for path in c.guides:
            if path in seen:
                continue
            seen.add(path)
            ready = prepare(path, c.kinds, c.tags, False, c.shuffle, c.dialect, c.root,
                            c.link_of(path), models=True)  # fmt: skip
            diagnostics.extend(ready.diagnostics)
            cards.extend(m for m in ready.models if kind is None or m.kind == kind)
    return cards, diagnostics


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
    help="Processes that read and render guides (default and most: one per core).",
)
@DIALECT
@NO_CACHE
def build_command(
    paths: tuple[Path, ...], out: Path, strict: bool, dry_run: bool, jobs: int | None,
    dialect: str | None, no_cache: bool,
) -> None:  # fmt: skip
    """Build one .apkg per guide (PATHS), or what deck_source/decks.yaml describes.

    Guides unchanged since the last build are taken from OUT/.guidedeck-cache, and decks
    unchanged are not rewritten."""
    from guidedeck.build import build
    from guidedeck.cache import Cache
    from guidedeck.prepare import available_cores

    _check_out(out, writing=not dry_run)
    inputs = _inputs(paths, strict, dialect)
    total = sum(len(p.guides) for p in inputs.packages)
    cores = available_cores()
    if jobs is not None and jobs > cores:
        click.echo(f"--jobs {jobs}: only {cores} core(s) here; using {cores}", err=True)
    with _progress(total) as advance:
        result = build(
            inputs.packages,
            out,
            strict=strict,
            dry_run=dry_run,
            on_guide=advance,
            jobs=min(jobs or cores, cores),
            roots=inputs.roots,
            cache=Cache.under(out, enabled=not no_cache, writable=not dry_run),
        )
    _summary(result)
    _removed(result)
    if any(p.preset is not None for p in inputs.packages):
        click.echo("preset: deck options reach Anki by `guidedeck push` only (an .apkg cannot "
                   "carry them)")  # fmt: skip
    report_diagnostics([*inputs.problems, *result.diagnostics], strict)


def _check_out(out: Path, *, writing: bool) -> None:
    from guidedeck.ownership import output_problem

    problem = output_problem(out, writing=writing)
    if problem is not None:
        raise GuideError(problem)


@main.command(name="preview")
@PATHS
@_out_option("build/preview", "HTML pages")
@click.option(
    "--decks", type=click.Path(), callback=_as_paths, default="build", show_default=True,
    help="Folder of the decks last built: the cards show the note IDs a build there gives.",
)  # fmt: skip
@click.option("--open", "open_page", is_flag=True, help="Open the preview in a browser.")
@STRICT
@DIALECT
@NO_CACHE
def preview_command(
    paths: tuple[Path, ...], out: Path, decks: Path, open_page: bool, strict: bool,
    dialect: str | None, no_cache: bool,
) -> None:  # fmt: skip
    """Write an offline HTML preview of every card, front and back, at phone width."""
    from guidedeck.cache import Cache
    from guidedeck.preview import preview

    _check_out(out, writing=True)
    inputs = _inputs(paths, strict, dialect)
    cache = Cache.under(out, enabled=not no_cache)
    report = preview(inputs.packages, out, strict=strict, cache=cache, decks_dir=decks)
    cards = sum(len(deck.cards) for deck in report.decks)
    if report.index is not None:
        click.echo(f"{len(report.decks)} deck(s), {cards} card(s): {report.index}")
    report_diagnostics([*inputs.problems, *report.diagnostics], strict)
    if open_page and report.index is not None:
        click.launch(str(report.index))


@main.command(name="serve")
@PATHS
@_out_option("build", "decks (with --build); the preview's cache is in OUT/preview")
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True,
              help="Port on 127.0.0.1 (0: any free one).")  # fmt: skip
@click.option("--build", "write_decks", is_flag=True,
              help="Also write the decks and lock files on each change.")  # fmt: skip
@click.option("--open", "open_page", is_flag=True, help="Open the site in a browser.")
@STRICT
@DIALECT
@NO_CACHE
def serve_command(
    paths: tuple[Path, ...], out: Path, port: int, write_decks: bool, open_page: bool,
    strict: bool, dialect: str | None, no_cache: bool,
) -> None:  # fmt: skip
    """Serve the preview on 127.0.0.1 and rebuild it as the guides change (Ctrl-C stops).

    Every save of a guide, an image, decks.yaml or a template rebuilds what changed and reloads
    the open pages; problems show on the pages and here."""
    from guidedeck.serve import Options, Server

    _check_out(out, writing=write_decks)
    _say_default(paths)
    options = Options(paths, out, strict, dialect, not no_cache, write_decks)

    def ready(url: str) -> None:
        click.echo(f"serving {url} (Ctrl-C to stop)", err=True)
        if open_page:
            click.launch(url)

    server = Server(options, lambda line: click.echo(line, err=True))
    try:
        server.run(port, ready)
    except OSError as exc:
        raise GuideError(f"cannot serve on 127.0.0.1:{port}: {exc.strerror or exc}") from None
    except KeyboardInterrupt:
        click.echo("stopped", err=True)


@main.command(name="init")
@click.argument(
    "folder", required=False, type=click.Path(file_okay=False), callback=_as_paths, default="."
)
def init_command(folder: Path) -> None:
    """Write FOLDER/decks.yaml for the guides in FOLDER (default: here), with a comment on
    every key, and the line .gitattributes needs to merge lock files. Overwrites nothing."""
    from guidedeck.starter import init

    if not folder.is_dir():
        raise GuideError(f"{folder}: no such folder")
    started = init(folder)
    if started.wrote_config:
        click.echo(f"wrote {started.config} ({started.packages} package(s)); "
                   f"`guidedeck build` in {folder} now builds what it lists")  # fmt: skip
    else:
        click.echo(f"{started.config} exists: left as it is")
    said = "added the lock files' merge line to" if started.wrote_attributes else "already in"
    click.echo(f"{said} {started.attributes}")


@main.command(name="triage")
@PATHS
@click.option(
    "--collection", type=click.Path(), callback=_as_paths, default=None,
    help="The collection file to read (default: your Anki profile's).",
)  # fmt: skip
@click.option("--profile", default=None, help="The Anki profile to read, by name.")
@ANKI_CONNECT
@click.option(
    "--lapses", type=click.IntRange(min=1), default=3, show_default=True,
    help="List notes that lapsed at least this many times.",
)  # fmt: skip
@click.option(
    "--decks", "decks_dir", type=click.Path(file_okay=False), callback=_as_paths,
    default="build", show_default=True, help="Where the guides' decks are built (for identities).",
)  # fmt: skip
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table")
def triage_command(
    paths: tuple[Path, ...], collection: Path | None, profile: str | None, connect: str | None,
    lapses: int, decks_dir: Path, fmt: str,
) -> None:  # fmt: skip
    """List the guides' notes that learners flag, mark or keep failing (leeches, lapses), as
    path:line: kind: question, most trouble first. Reads the collection; changes nothing."""
    import json

    from guidedeck.anki_connect import ConnectError
    from guidedeck.cache import Cache
    from guidedeck.push import PushError, choose_way
    from guidedeck.triage import known_notes, troubles_in

    inputs = _inputs(paths, False)
    try:
        way = choose_way(collection, profile, connect)
        known, problems = known_notes(
            inputs.packages, decks_dir, Cache.under(decks_dir, writable=False)
        )
        found = troubles_in(way, known, lapses)
    except (PushError, ConnectError) as exc:
        raise GuideError(str(exc)) from None
    if fmt == "json":
        click.echo(json.dumps([t.as_dict() for t in found], indent=2, ensure_ascii=False))
    else:
        for trouble in found:
            click.echo(trouble.line())
        click.echo(f"{len(found)} note(s) in trouble, of {len(known)} from these guides, in "
                   f"{way.chosen}", err=True)  # fmt: skip
    if problems:
        report_diagnostics(problems, False)


@main.command(name="push")
@PATHS
@click.option(
    "--collection", type=click.Path(), callback=_as_paths, default=None,
    help="The collection.anki2 file to push into (default: your Anki profile's).",
)  # fmt: skip
@click.option("--profile", default=None, help="The Anki profile to push into, by name.")
@ANKI_CONNECT
@click.option(
    "--removed", type=click.Choice(["keep", "tag", "suspend", "delete"]), default="keep",
    show_default=True,
    help="What to do with notes whose items left the guides (delete asks first).",
)  # fmt: skip
@click.option("--yes", is_flag=True, help="Delete removed notes without asking.")
@click.option("--dry-run", is_flag=True, help="Show the whole plan; change nothing.")
@_out_option("build", ".apkg files (written as by build)")
@STRICT
@DIALECT
def push_command(
    paths: tuple[Path, ...], collection: Path | None, profile: str | None, connect: str | None,
    removed: str, yes: bool, dry_run: bool, out: Path, strict: bool, dialect: str | None,
) -> None:  # fmt: skip
    """Build, then import straight into your Anki collection: the running Anki through
    AnkiConnect, else the collection file (Anki closed)."""
    from guidedeck.prepare import available_cores
    from guidedeck.push import PushError, PushJob, PushStoppedError, choose_way, push

    _check_out(out, writing=not dry_run)
    inputs = _inputs(paths, strict, dialect)
    try:
        way = choose_way(collection, profile, connect)

        def confirm(plan: object) -> bool:
            if yes:
                return True
            if not sys.stdin.isatty():
                click.echo("--removed delete: pass --yes to delete without a terminal", err=True)
                return False
            number = len(getattr(plan, "removed", {}))
            question = f"Delete {number} note(s), their cards and reviews from your collection?"
            return click.confirm(question, default=False)

        job = PushJob(
            inputs.packages, out, inputs.roots, removed, dry_run, strict, available_cores(),
            confirm,
        )  # fmt: skip
        result = push(job, way)
    except PushError as exc:
        raise GuideError(str(exc)) from None
    except PushStoppedError as exc:
        click.echo(str(exc), err=True)
        raise click.exceptions.Exit(130) from None
    _push_summary(result, dry_run)
    if result.build is not None:
        _dropped(result.build)
    diagnostics = [*inputs.problems, *(result.build.diagnostics if result.build else [])]
    report_diagnostics(diagnostics, strict)
    if result.declined:
        raise GuideError("nothing was changed: the removed notes were not deleted")
    if not dry_run and not result.applied:
        raise GuideError("nothing was pushed (see the problems above)")


def _push_summary(result: object, dry_run: bool) -> None:
    from guidedeck.push import PushReport, counts, removed_search

    assert isinstance(result, PushReport)
    plan = result.plan
    verb = "would push" if dry_run else "pushed"
    click.echo(f"{verb} into {result.chosen}")
    if result.backup is not None:
        click.echo(
            f"backup: {result.backup} (taken before the push; to restore it: Anki > File > "
            "Switch Profile > Open Backup)"
        )
    for path in result.exported:
        click.echo(
            f"exported before deleting: {path} (with its reviews; importing it with 'Import any "
            "learning progress' brings the deleted notes back)"
        )
    head = ["deck", "added", "updated", "unchanged", "moved", "removed"]
    rows = [
        [name, str(d.added), str(d.updated), str(d.unchanged), str(d.moved), str(d.removed)]
        for name, d in sorted(plan.decks.items())
    ]
    total = counts(plan)
    rows.append(["total", *(str(total[k]) for k in head[1:])])
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(len(head))]
    for row in [head, *rows]:
        numbers = zip(row[1:], widths[1:], strict=True)
        cells = [row[0].ljust(widths[0]), *(c.rjust(w) for c, w in numbers)]
        click.echo("  ".join(cells).rstrip())
    if plan.removed:
        done = {
            "keep": "kept (use --removed tag, suspend or delete to act on them)",
            "tag": f"tagged {result.acted} with guidedeck::removed",
            "suspend": f"suspended {result.acted} card(s)",
            "delete": f"deleted {result.acted}",
        }[result.policy]
        if dry_run:
            done = f"would be handled by --removed {result.policy}"
        click.echo(f"{len(plan.removed)} removed note(s): {done}. Find them with:")
        click.echo(f"  {removed_search(plan)}")
    for name in result.emptied:
        click.echo(f'deck "{name}" was left empty by the moves and removed')
    for said in result.presets:
        click.echo(said)


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
    from guidedeck.cards import KINDS

    kinds = KINDS.kinds()
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
                target = (
                    str(pkg.output) if pkg.written else "no cards" if pkg.skipped else "not written"
                )
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
    notes = []
    same = sum(p.unchanged for p in result.packages)
    if same:
        notes.append(f"{same} unchanged, left as they were")
    if result.reused and not result.unread:
        total = result.reused + result.prepared
        notes.append(f"{result.reused} of {total} guide(s) from the cache")
    if result.unread:
        notes.append("nothing changed since the last build: no guide, deck or lock read")
    extra = f" ({'; '.join(notes)})" if notes else ""
    click.echo(
        f"{done} of {len(result.packages)} package(s) {verb} in {result.seconds:.2f} s{extra}"
    )


def _dropped(result: BuildReport) -> None:
    """Say which notes belong to kinds their package no longer makes: kept, never deleted."""
    for where, number, kinds in result.dropped_kinds():
        click.echo(
            f"{number} note(s) of {where} are of a kind no longer built ({', '.join(kinds)}: "
            "not in the package's 'kinds'); they are kept, and never deleted"
        )


def _removed(result: BuildReport) -> None:
    """Say which notes left the guides, with an Anki search that finds exactly them."""
    tense = "would be" if result.dry_run else "are"
    for where, number, search in result.removed_searches():
        click.echo(
            f"{number} note(s) {tense} no longer in {where}; your decks keep them until you "
            "delete them. Find them in Anki (Browse) with:"
        )
        click.echo(f"  {search}")
    _dropped(result)
    for notice in result.notices:
        click.echo(notice)
