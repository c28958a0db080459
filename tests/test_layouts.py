"""Question layouts of issue #12, judged where users see them: cards rendered by Anki.

The fixture guides (``fixtures/parse/layout_*.md`` and friends, written for these tests) hold
one layout each; their full models are pinned by ``test_parse_fixtures``. Here the promises are
checked on the cards themselves: what is on a front, what waits on the back, what is coloured.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from guidedeck.parse import parse
from tests.anki_engine import (
    Rendered,
    assert_healthy_import,
    fresh_collection,
    import_package,
    visible_text,
)
from tests.answer_points import prose_words_html
from tests.conftest import FIXTURES, corpus_guides
from tests.test_decks import build_one, card_count

PARSE = FIXTURES / "parse"
QUESTION_FIXTURES = sorted(
    p for p in PARSE.glob("*.md") if re.search(r"^#{1,6} Question \d", p.read_text(), re.M)
)


def anki_cards(guide: Path, tmp_path: Path) -> list[Rendered]:
    """``guide`` built, imported into a fresh collection and every card rendered."""
    apkg = build_one(guide, tmp_path / "out")
    col = fresh_collection(tmp_path / "anki")
    try:
        return assert_healthy_import(col, import_package(col, apkg), card_count(guide))
    finally:
        col.close()


def of_kind(cards: list[Rendered], kind: str) -> list[Rendered]:
    return [c for c in cards if c.notetype == f"guidedeck {kind}"]


def code_blocks(html: str, language: str) -> list[str]:
    pattern = rf'<pre class="gd-code" data-lang="{language}"><code>(.*?)</code></pre>'
    return re.findall(pattern, html, re.S)


@pytest.mark.parametrize("guide", QUESTION_FIXTURES, ids=[p.stem for p in QUESTION_FIXTURES])
def test_every_question_section_is_one_scenario_card(guide: Path) -> None:
    """One question card per section (its answer's parts aside); a section without an answer
    makes none, and says so at its line (#24: a card must answer)."""
    result = parse(guide.read_text(encoding="utf-8"), guide.name)
    questions = list(result.guide.questions)
    assert questions
    unanswered = {
        int(m.group(1))
        for d in result.diagnostics
        if (m := re.search(r"Question (\d+): .*; no card$", d.message))
    }
    carded = [s.question for s in result.guide.scenarios if s.part == 0]
    assert carded == [q for q in questions if q.number not in unanswered]
    parts = [s for s in result.guide.scenarios if s.part]
    assert all(p.question in carded for p in parts)


def test_runner_tests_and_output_wait_on_the_back(tmp_path: Path) -> None:
    cards = anki_cards(PARSE / "layout_runner.md", tmp_path)
    lost, search = sorted(of_kind(cards, "Scenario"), key=lambda c: c.due)
    front, back = visible_text(lost.question), visible_text(lost.answer)
    # the exercise is on the front, highlighted; what checks it is not
    assert "Your task is to fix the handler" in front
    assert code_blocks(lost.question, "jsx") and '<span class="gd-' in lost.question
    assert "querySelector" not in front and "clicked 3 times" not in front
    # the back names what it shows
    assert "Test cases" in back and "querySelector" in back
    assert "Output" in back and "clicked 3 times -> total 3" in back
    assert code_blocks(lost.answer, "javascript"), "tests keep their language"
    # no answer on the front: the wrapped explanation is on the back only
    assert "updater form receives" not in front and "updater form receives" in back
    # a solution slot is a give-away too; the solution section is on the back
    assert "clearTimeout" not in visible_text(search.question)
    assert "Solution" in visible_text(search.answer) and "clearTimeout" in search.answer
    assert "Why This Works" in visible_text(search.answer)


def test_bold_step_lines_make_the_outline(tmp_path: Path) -> None:
    cards = anki_cards(PARSE / "layout_bold_steps.md", tmp_path)
    steps, options, race = sorted(of_kind(cards, "Scenario"), key=lambda c: c.due)
    assert "Measure Before Guessing" not in visible_text(steps.question)
    for title in ("Measure Before Guessing", "Check the Input Size", "Profile the Slow Stage"):
        assert title in visible_text(steps.answer)
    assert "Two teams disagree" in visible_text(options.question)
    assert "At the Edge" not in visible_text(options.question)
    assert "At the Edge" in visible_text(options.answer)
    # a bold label naming the fix starts the answer: the symptoms stay in front, the fix not
    assert "B finishes first" in visible_text(race.question)
    assert "Cancel the older request" not in visible_text(race.question)
    assert "Cancel the older request" in visible_text(race.answer)
    assert code_blocks(race.answer, "javascript")


def test_set_up_before_a_lone_challenge_is_kept(tmp_path: Path) -> None:
    (card,) = of_kind(anki_cards(PARSE / "layout_challenge_only.md", tmp_path), "Scenario")
    front = visible_text(card.question)
    assert "About one call in a thousand" in front and "never charges a customer twice" in front
    assert code_blocks(card.question, "go")


def test_wrapped_answer_keeps_its_outline_and_is_cut_between_blocks(tmp_path: Path) -> None:
    cards = anki_cards(PARSE / "layout_wrapped_answer.md", tmp_path)
    scenario, *parts = sorted(of_kind(cards, "Scenario"), key=lambda c: c.due)
    (contrast,) = of_kind(cards, "Contrast")
    outline = visible_text(scenario.answer)
    assert (
        "Junior Approach: Change the Tag" in outline and "5. Roll Out From the Pipeline" in outline
    )
    # an answer too long for one back: a card per point, each marking where it sits
    assert len(parts) == 9
    assert all("gd-here" in p.answer for p in parts)
    back = contrast.answer
    assert "continues in the guide" in visible_text(back)
    assert "Record What Changed" not in visible_text(back)
    # the cut falls between blocks: every code block that starts also ends; the explanation
    # keeps to a phone's budget beside the two sides (#24), its whole text on the parts' cards
    assert back.count('<pre class="gd-code"') == back.count("</pre>") >= 4
    assert prose_words_html(back.split('<hr id="answer">', 1)[-1]) <= 350
    assert len(code_blocks(back, "yaml")) >= 4


def test_contrasts_of_one_question_have_their_own_fronts(tmp_path: Path) -> None:
    cards = anki_cards(PARSE / "contrast_parts.md", tmp_path)
    contrasts = of_kind(cards, "Contrast")
    fronts = [visible_text(c.question) for c in contrasts]
    assert len(set(fronts)) == len(fronts) == 4
    assert any("Validate at the Boundary" in f for f in fronts)
    # code given in an attribute without a language takes the question's, then the guide's
    assert all(code_blocks(c.answer, "typescript") for c in contrasts if "<pre" in c.answer)
    assert sum(1 for c in contrasts if code_blocks(c.answer, "typescript")) == 3
    # explanations from juniorExplanation= / seniorExplanation= reach the sides
    backs = " ".join(visible_text(c.answer) for c in contrasts)
    assert "A cast checks nothing at run time" in backs
    assert "Parsing fails at the boundary" in backs


def test_a_shebang_is_the_only_guess(tmp_path: Path) -> None:
    (contrast,) = [
        c
        for c in of_kind(anki_cards(PARSE / "language_guess.md", tmp_path), "Contrast")
        if "pg_dump" in c.answer
    ]
    assert code_blocks(contrast.answer, "bash"), "the #! line names bash"
    plain = code_blocks(contrast.answer, "")
    assert len(plain) == 1 and "<span" not in plain[0], "nothing names the other: plain text"


def test_rows_sharing_a_first_cell_say_what_tells_them_apart(tmp_path: Path) -> None:
    facts = of_kind(anki_cards(PARSE / "table_repeats.md", tmp_path), "Fact")
    fronts = {visible_text(f.question) for f in facts}
    assert len(fronts) == len(facts) == 7
    compute = [f for f in facts if "Compute" in visible_text(f.question)]
    assert {("Right-size instances" in visible_text(f.question)) for f in compute} == {True, False}
    for fact in compute:
        # the column shown on the front is not asked again
        assert "Saving?" in visible_text(fact.question)
        assert "Cut ·" not in visible_text(fact.question)
    assert sum("row " in visible_text(f.question) for f in facts) == 4


def test_malformed_component_is_reported_not_shown(tmp_path: Path) -> None:
    guide = PARSE / "orphan_component.md"
    result = parse(guide.read_text(encoding="utf-8"), guide.name)
    warnings = [str(d) for d in result.diagnostics]
    assert any(
        w.startswith("orphan_component.md:23:1: warning:") and "opening '<Name' line" in w
        for w in warnings
    )
    cards = anki_cards(guide, tmp_path)
    for card in cards:
        text = visible_text(card.question) + visible_text(card.answer)
        assert "rightAnswer" not in text and "client:load" not in text
        assert "clearInterval" not in text, "the stray solution reaches no card"


CORPUS = corpus_guides()


@pytest.mark.skipif(not CORPUS, reason="shared corpus (../shared/corpus) not found")
@pytest.mark.parametrize("guide", CORPUS, ids=[p.stem for p in CORPUS])
def test_corpus_every_question_section_is_one_scenario_card(guide: Path) -> None:
    result = parse(guide.read_text(encoding="utf-8"), guide.name)
    headings = re.findall(r"^### Question \d+", guide.read_text(encoding="utf-8"), re.M)
    assert len(result.guide.questions) == len(headings) > 0
    carded = [s.question for s in result.guide.scenarios if s.part == 0]
    assert carded == list(result.guide.questions)
