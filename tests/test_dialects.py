"""Other conventions of interview-question collections (issue #16): the shared real samples as a
regression suite, their decks judged in Anki, and folders of topic README.md files."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from guidedeck.cli import main
from guidedeck.guides import read_guide
from tests.anki_engine import assert_healthy_import, fresh_collection, import_package
from tests.answer_points import prose_words_html
from tests.conftest import FIXTURES, ROOT, out_names

DIALECTS = Path(ROOT.parent / "shared" / "dialects")
EXPECTED: dict[str, dict[str, int]] = yaml.safe_load(
    (FIXTURES / "dialects_expected.yaml").read_text(encoding="utf-8")
)
present = pytest.mark.skipif(not DIALECTS.is_dir(), reason="../shared/dialects not found")
DEAD_LINK = re.compile(r'<a\s[^>]*href="(?![a-z][a-z0-9+.-]*:)', re.IGNORECASE)


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    assert "Traceback" not in result.output
    return result.exit_code, result.output


@present
@pytest.mark.parametrize("name", sorted(EXPECTED), ids=sorted(EXPECTED))
def test_sample_file_counts(name: str) -> None:
    read = read_guide(DIALECTS / name)
    assert read.result is not None, read.diagnostics
    cards = read.result.guide.cards
    parts = [c for c in cards if getattr(c, "part", 0)]
    got = {k: sum(1 for c in cards if c.kind.value == k) for k in EXPECTED[name] if k != "part"}
    got.update(scenario=got["scenario"] - len(parts), part=len(parts))
    assert got == EXPECTED[name]


@present
def test_every_answered_question_of_the_samples_is_a_card() -> None:
    # the counts of questions each collection holds (see shared/dialects/README.md), all answered
    totals: dict[str, int] = {}
    for name, counts in EXPECTED.items():
        top = name.split("/")[0]
        totals[top] = totals.get(top, 0) + counts["quiz"] + counts["scenario"]
    assert totals["lydiahallie-javascript-questions"] == 155
    # 271 questions: 48 answered "To be completed." and 2 with links alone make no card (#24)
    assert totals["trimstray-test-your-sysadmin-skills"] == 271 - 50
    assert totals["Chalarangelo-30-seconds-of-interviews"] == 15
    assert totals["yangshun-front-end-interview-handbook"] == 10
    assert totals["h5bp-Front-end-Developer-Interview-Questions"] == 0  # lists without answers
    assert totals["sudheerj-reactjs-interview-questions"] >= 410  # 3 have no answer


@present
@pytest.mark.parametrize(
    "sample",
    [
        "lydiahallie-javascript-questions/README.md",
        "trimstray-test-your-sysadmin-skills/README.md",
        "sudheerj-reactjs-interview-questions/README.md",
    ],
)
def test_sample_decks_import_and_hold_no_dead_link(sample: str, tmp_path: Path) -> None:
    # a build writes a lock file beside its guide, and the samples are read-only: a copy
    guide = tmp_path / "guide" / "README.md"
    guide.parent.mkdir()
    guide.write_bytes((DIALECTS / sample).read_bytes())
    code, output = run("build", str(guide), "--out", str(tmp_path / "deck"))
    assert code == 0, output
    (deck,) = (tmp_path / "deck").glob("*.apkg")
    expected = EXPECTED[sample]
    col = fresh_collection(tmp_path / "anki")
    try:
        cards = assert_healthy_import(col, import_package(col, deck), sum(expected.values()))
        for card in cards:
            for value in card.fields.values():
                assert not DEAD_LINK.search(value), (card.fields["Source"], value[:200])
            assert not re.search(r"table of contents", card.question, re.IGNORECASE)
            # phone-sized (#24): a long answer is in parts, none over 350 words of prose
            back = card.answer.split('<hr id="answer">', 1)[-1]
            assert prose_words_html(back) <= 350, (card.fields["Source"], prose_words_html(back))
    finally:
        col.close()


def test_topic_readmes_give_one_deck_each(tmp_path: Path) -> None:
    topics = tmp_path / "collection"
    for topic, question in (("go", "What does defer do?"), ("rust", "What is a borrow?")):
        (topics / topic).mkdir(parents=True)
        (topics / topic / "README.md").write_text(
            f"# {topic.title()} questions\n\n<details>\n<summary>{question}</summary>\n\n"
            f"An answer about {topic}.\n\n</details>\n",
            encoding="utf-8",
        )
    (topics / "CHANGELOG.md").write_text("# Changes\n\n<details><summary>What changed in v2?"
                                         "</summary>\n\nThings.\n\n</details>\n")  # fmt: skip
    (topics / "README.md").write_text("# Collection\n\n- [Go](go/README.md)\n- [Rust](rust/)\n")
    out = tmp_path / "out"
    code, output = run("build", str(topics), "--out", str(out))
    assert code == 0, output
    assert out_names(out) == ["go.apkg", "rust.apkg"]
    assert (topics / "go" / "README.guidedeck.lock").is_file()
    assert (topics / "rust" / "README.guidedeck.lock").is_file()
    assert f"{topics / 'README.md'}: made no cards; no deck written" in output
    for topic in ("go", "rust"):
        col = fresh_collection(tmp_path / f"anki-{topic}")
        try:
            cards = assert_healthy_import(col, import_package(col, out / f"{topic}.apkg"), 1)
            assert f"An answer about {topic}" in cards[0].answer
        finally:
            col.close()


def test_dialect_override(tmp_path: Path) -> None:
    guide = tmp_path / "guide.md"
    guide.write_text((FIXTURES / "parse" / "dialect_details.md").read_text(encoding="utf-8"))
    code, auto = run("list", "--format", "json", str(guide))
    assert code == 0 and '"scenario"' in auto
    code, family = run("list", "--format", "json", "--dialect", "family", str(guide))
    assert '"scenario"' not in family  # the family's syntaxes alone: no question cards
    (tmp_path / "decks.yaml").write_text("defaults:\n  dialect: family\npackages:\n"
                                         "  - guides: [guide.md]\n")  # fmt: skip
    code, output = run("list", "--format", "json", str(tmp_path))
    assert '"scenario"' not in output


def _fields(value: Any) -> str:
    return str(value)


HUGE = "word " * 12_000  # 60,000 characters in one paragraph: no block to cut between
LAYOUTS = {
    "details": (
        "# Shell\n\n<details>\n<summary><b>What does the sticky bit do?</b></summary><br>\n\n"
        f"{HUGE}\n\n</details>\n\n<details>\n<summary><b>What is a pipe?</b></summary><br>\n\n"
        "It connects one command's output to another's input.\n\n</details>\n"
    ),
    "numbered": (
        "# Kubernetes\n\n1.  ### What is a Pod?\n\n"
        f"    {HUGE}\n\n2.  ### What is a Service?\n\n"
        "    A stable name in front of Pods.\n\n3.  ### What is a Node?\n\n    A machine.\n"
    ),
}


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_other_conventions_go_through_the_finishing_passes(layout: str, tmp_path: Path) -> None:
    """A 60,000-character answer is shortened with a warning, as a Quick Check's text is."""
    guide = tmp_path / "guide.md"
    guide.write_text(LAYOUTS[layout], encoding="utf-8")
    read = read_guide(guide)
    assert read.result is not None
    (longest,) = [s for s in read.result.guide.scenarios if "word word" in s.answer]
    assert len(longest.answer) <= 20_000 + len("\n\n… (shortened)")
    warnings = [d.message for d in read.diagnostics if "shortened" in d.message]
    found = re.fullmatch(r"card text of ([\d,]+) characters shortened to 20,000", warnings[0])
    assert found and int(found.group(1).replace(",", "")) >= 59_999, read.diagnostics
