"""Links from a card back to its section of the guide (issue #27): ``source_url`` in decks.yaml,
``{path}`` and ``{anchor}`` filled in, anchors as GitHub makes them, never a line number."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from guidedeck.cli import main
from guidedeck.guides import read_guide
from guidedeck.slugs import github_anchors, heading_text
from tests.anki_engine import assert_every_deck_imports, fresh_collection, import_package
from tests.conftest import FIXTURES, ROOT

SHARED = ROOT.parent / "shared"
URL = "https://github.com/owner/repo/blob/main/{path}#{anchor}"

ANCHORS = [
    # heading as written, the anchor GitHub gives it
    ("Question 1: A Python worker gets slower every hour. Find the leak.",
     "question-1-a-python-worker-gets-slower-every-hour-find-the-leak"),
    ("Step 2: Inspect, Don't Compare Strings", "step-2-inspect-dont-compare-strings"),
    ("What is `useState()` in React?", "what-is-usestate-in-react"),
    ("**Bold** and _emphasis_ and snake_case", "bold-and-emphasis-and-snake_case"),
    ("[A link](https://example.com) inside", "a-link-inside"),
    ("Ship it 🚀", "ship-it-"),
    ("Ünïcode Überschrift", "ünïcode-überschrift"),
    ("C++ vs. C#", "c-vs-c"),
    ('<a name="intro">Introduction</a>', "introduction"),
]  # fmt: skip


@pytest.mark.parametrize(("heading", "anchor"), ANCHORS)
def test_a_heading_gets_githubs_anchor(heading: str, anchor: str) -> None:
    assert github_anchors([heading_text(heading)]) == [anchor]


def test_repeated_headings_are_numbered_as_github_numbers_them() -> None:
    texts = ["Quick Check", "The Scenario", "Quick Check", "Quick Check", "Quick Check 1"]
    assert github_anchors(texts) == [
        "quick-check", "the-scenario", "quick-check-1", "quick-check-2", "quick-check-1-1",
    ]  # fmt: skip


TOC = SHARED / "dialects" / "sudheerj-reactjs-interview-questions" / "README.md"
BROKEN = {
    # the file's own table of contents links to headings that are not in it (reworded since,
    # or capitalised: GitHub's anchors are lower case), so no anchor rule can reach them
    "why-you-cant-update-props-in-react", "what-are-the-router-components-of-react-router-v6",
    "how-to-use-formattedmessage-as-placeholder-using-react-intl",
    "how-do-you-say-that-props-are-read-only", "is-it-keys-should-be-globally-unique",
    "why-do-you-not-required-to-use-inheritance",
    "is-it-prop-must-be-named-as-render-for-render-props", "how-to-fetch-data-with-react-hooks",
    "How-do-you-update-nested-objects-inside-state",
    "what-is-use-reducer-hook-can-you-describe-its-usage",
    "how-do-you-compare-use-state-and-use-reducer", "how-does-context-works-using-usecontext-hook",
    "is-it-ref-argument-available-for-all-functions-or-class-components",
}  # fmt: skip


@pytest.mark.corpus
def test_anchors_match_a_table_of_contents_written_for_github() -> None:
    """A real README's 800-odd table-of-contents links, written to work on GitHub, are the
    reference: every one that names a heading of the file reaches the anchor made here."""
    if not TOC.is_file():
        pytest.skip("../shared/dialects is absent")
    parsed = read_guide(TOC).result
    assert parsed is not None
    anchors = set(github_anchors(text for _, text in parsed.headings))
    links = re.findall(r"\]\(#([^)\s]+)\)", TOC.read_text(encoding="utf-8"))
    assert len(links) > 800
    assert {link for link in links if link not in anchors} == BROKEN


def _build(folder: Path, guides: list[Path], url: str | None = URL) -> Path:
    (folder / "guides").mkdir(parents=True)
    for guide in guides:
        shutil.copyfile(guide, folder / "guides" / guide.name)
    names = ", ".join(f"guides/{g.name}" for g in guides)
    default = f'  source_url: "{url}"\n' if url else "  tags: []\n"
    (folder / "decks.yaml").write_text(
        f"version: 1\ndefaults:\n{default}packages:\n  - guides: [{names}]\n    output: all.apkg\n"
    )
    result = CliRunner().invoke(main, ["build", str(folder), "--out", str(folder / "out")])
    assert result.exit_code == 0, result.output
    return folder / "out" / "all.apkg"


def _sources(apkg: Path, anki: Path) -> list[str]:
    col = fresh_collection(anki)
    try:
        import_package(col, apkg)
        return [col.get_note(n)["Source"] for n in col.find_notes('"note:guidedeck*"')]
    finally:
        col.close()


_HEADING = re.compile(r"^ {0,3}(#{1,6})\s+(.*?)(?:\s+#+)?\s*$")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")


def _headings_by_lines(text: str) -> list[str]:
    """The guide's ATX headings found line by line, outside code fences: a second reading,
    apart from the parser's, of what the anchors must name."""
    out, fence = [], ""
    for line in text.splitlines():
        mark = _FENCE.match(line)
        if mark and (not fence or mark.group(1)[0] == fence[0]):
            fence = "" if fence else mark.group(1)
            continue
        heading = None if fence else _HEADING.match(line)
        if heading:
            out.append(heading_text(heading.group(2)))
    return out


def _corpus() -> list[Path]:
    folder = SHARED / "corpus"
    return sorted(folder.glob("*.md"))[:16] if folder.is_dir() else []


@pytest.mark.corpus
@pytest.mark.parametrize("guide", _corpus() or [None], ids=lambda g: g.name if g else "absent")
def test_every_card_links_to_a_heading_of_its_guide(tmp_path: Path, guide: Path | None) -> None:
    if guide is None:
        pytest.skip("../shared/corpus is absent")
    sources = _sources(_build(tmp_path, [guide]), tmp_path / "anki")
    anchors = set(github_anchors(_headings_by_lines(guide.read_text(encoding="utf-8"))))
    prefix = f"https://github.com/owner/repo/blob/main/guides/{guide.name}#"
    assert sources
    for source in sources:
        match = re.fullmatch(r'<a href="([^"]+)">([^<]+)</a>', source)
        assert match, source
        href, name = match.groups()
        assert name == guide.name and href.startswith(prefix), source
        assert href[len(prefix) :] in anchors, source
        assert not re.search(r"#L\d", href), "never a line number"


def test_a_card_links_to_the_heading_it_stands_under(tmp_path: Path) -> None:
    guide = FIXTURES / "parse" / "quick_check.md"
    sources = _sources(_build(tmp_path, [guide]), tmp_path / "anki")
    # every quiz of this fixture stands under a "### Quick Check": the first, then -1, -2
    assert sorted(sources) == sorted(
        f'<a href="https://github.com/owner/repo/blob/main/guides/quick_check.md#{a}">'
        "quick_check.md</a>"
        for a in ("quick-check", "quick-check-1", "quick-check-2")
    )


def test_an_edit_above_a_card_leaves_its_link(tmp_path: Path) -> None:
    guide = FIXTURES / "parse" / "quick_check.md"
    _build(tmp_path, [guide])
    copy = tmp_path / "guides" / guide.name
    text = copy.read_text(encoding="utf-8")
    copy.write_text(text.replace("\n", "\n\nA new paragraph, lines above every card.\n\n", 1))
    result = CliRunner().invoke(main, ["build", str(tmp_path), "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    total = next(line for line in result.output.splitlines() if line.startswith("total"))
    assert total.split()[5:9] == ["0", "0", "3", "0"], result.output  # nothing changed
    assert_every_deck_imports([tmp_path / "out" / "all.apkg"], tmp_path / "anki", set())


def test_without_a_template_the_source_is_the_file_name(tmp_path: Path) -> None:
    guide = FIXTURES / "parse" / "quick_check.md"
    sources = _sources(_build(tmp_path, [guide], url=None), tmp_path / "anki")
    assert sources == ["quick_check.md"] * 3


def test_a_lost_lock_still_finds_notes_whose_source_is_a_link(tmp_path: Path) -> None:
    guide = FIXTURES / "parse" / "quick_check.md"
    _build(tmp_path, [guide])
    for lock in (tmp_path / "guides").glob("*.guidedeck.lock"):
        lock.unlink()
    result = CliRunner().invoke(main, ["build", str(tmp_path), "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    total = next(line for line in result.output.splitlines() if line.startswith("total"))
    assert total.split()[5:9] == ["0", "0", "3", "0"], result.output
    assert_every_deck_imports([tmp_path / "out" / "all.apkg"], tmp_path / "anki", set())


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("ftp://host/{path}", "must start with https://"),
        ("https://host/{path}#{line}", "may hold only {path} and {anchor}"),
        ('https://host/"><script>', "may hold only {path} and {anchor}"),
    ],
)
def test_a_bad_source_url_is_a_located_error(tmp_path: Path, url: str, problem: str) -> None:
    shutil.copyfile(FIXTURES / "parse" / "quick_check.md", tmp_path / "g.md")
    (tmp_path / "decks.yaml").write_text(
        f"version: 1\ndefaults:\n  source_url: '{url}'\npackages:\n  - guides: [g.md]\n"
    )
    result = CliRunner().invoke(main, ["check", str(tmp_path)])
    assert result.exit_code == 1
    assert f"decks.yaml:3:15: error: source_url {problem}" in result.output, result.output
