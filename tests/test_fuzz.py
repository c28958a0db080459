"""Generated and mutated guides: the parser only ever returns models and diagnostics, located
inside the file, and its time grows linearly with the input."""

from __future__ import annotations

import gc
import time
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from guidedeck.diagnostics import Diagnostic
from guidedeck.models import Contrast, Fact, Quiz, Scenario
from guidedeck.parse import ParseResult, normalize, parse
from tests.conftest import FIXTURES, ROOT

SEEDS = [p.read_text(encoding="utf-8") for p in sorted((FIXTURES / "parse").glob("*.md"))]
SEEDS += [(ROOT / "deck_source" / "backend-basics.md").read_text(encoding="utf-8")]

# Pieces of the guide family's syntax, whole and broken, for generated guides and insertions.
PIECES = [
    "# Title\n", "### Question 1: What?\n", "**Type:** A | **Category:** B\n", "## The Scenario\n",
    "## The Challenge\n", "### Quick Check\n", "**Question?**\n", "-> A. right\n", "   B. wrong\n",
    "<details>\n<summary>See Answer</summary>\n", "</details>\n", "---\n", "```python\n", "```\n",
    "~~~\n", "````\n", "| a | b |\n", "|---|---|\n", "| 1 | 2 |\n", "| x \\| y |\n",
    "> **Common Mistake:** m\n", "> **Senior Engineer Approach:** s\n", "> ", "- ", "  ", "\t",
    '<InterviewQuiz question="q" options={["a", "b"]} correctAnswer={1} />\n',
    '<InterviewQuiz question="q\n', "options={[`a`, 'b', \"c\"]}\n", "correctAnswer={9}\n",
    '<JuniorVsSenior juniorAnswer="j" seniorAnswer={{ title: "t", code: `x` }}>\n',
    "</JuniorVsSenior>\n", '<SmartCodeRunner client:load>\n<Fragment slot="code">\n',
    "</Fragment>\n</SmartCodeRunner>\n", "<Tabs>", "</Tabs>", "{/* c */}\n", "{", "}", "`", "${",
    "<", ">", "/>", "\"", "'", "\\", "*", "_", "[", "](", "\r\n", "\r", "\ufeff", "\x00", "\u2028",
    "é", "\U0001f600", "\n", "\n\n", "---\ntitle: x\n---\n", "import X from 'y'\n",
]  # fmt: skip

pieces = st.lists(st.sampled_from(PIECES) | st.text(max_size=20), max_size=80).map("".join)


@st.composite
def mutated(draw: st.DrawFn) -> str:
    """A real guide with random slices deleted, duplicated, swapped or syntax inserted."""
    text = draw(st.sampled_from(SEEDS))
    for _ in range(draw(st.integers(1, 8))):
        if not text:
            break
        a = draw(st.integers(0, len(text)))
        b = draw(st.integers(a, min(len(text), a + 400)))
        action = draw(st.sampled_from(["delete", "duplicate", "insert", "move"]))
        if action == "delete":
            text = text[:a] + text[b:]
        elif action == "duplicate":
            text = text[:b] + text[a:b] + text[b:]
        elif action == "insert":
            text = text[:a] + draw(pieces) + text[a:]
        else:
            c = draw(st.integers(0, len(text)))
            chunk, rest = text[a:b], text[:a] + text[b:]
            c = min(c, len(rest))
            text = rest[:c] + chunk + rest[c:]
    return text


def check_result(text: str, result: ParseResult) -> None:
    """Models and diagnostics only, each located inside the file."""
    lines = normalize(text).count("\n") + 1
    assert isinstance(result, ParseResult)
    for diagnostic in result.diagnostics:
        assert isinstance(diagnostic, Diagnostic)
        assert 1 <= diagnostic.loc.line <= lines, diagnostic
        assert diagnostic.loc.col >= 1, diagnostic
    for card in result.guide.cards:
        assert isinstance(card, Quiz | Fact | Contrast | Scenario)
        assert 1 <= card.loc.line <= lines, card.loc
        if isinstance(card, Quiz):
            assert len(card.options) >= 2 and 0 <= card.correct < len(card.options)
        if isinstance(card, Fact):
            assert len(card.cells) == len(card.headers)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pieces)
def test_generated_guides_parse_to_models_and_diagnostics(text: str) -> None:
    check_result(text, parse(text, "generated.md"))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_mutated_guides_parse_to_models_and_diagnostics(text: str) -> None:
    check_result(text, parse(text, "mutated.md"))


def _parse_seconds(text: str) -> float:
    """Best of three CPU times; garbage collection paused, its pauses are noise here."""
    best = float("inf")
    gc.collect()
    gc.disable()
    try:
        for _ in range(3):
            started = time.process_time()
            parse(text, "big.md")
            best = min(best, time.process_time() - started)
    finally:
        gc.enable()
    return best


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(pieces.filter(lambda t: len(t) > 40), mutated()))
def test_parse_time_grows_linearly(chunk: str) -> None:
    """Eight times the input may take about eight times as long; quadratic would be 64 times.

    Sizes are large enough (>= 60 KB) that fixed costs do not hide the growth; the bound (20x)
    leaves room for noise on a loaded machine.
    """
    chunk += "\n\n"
    base = chunk * max(1, 60_000 // len(chunk))
    small, large = _parse_seconds(base), _parse_seconds(base * 8)
    assert large <= 20 * max(small, 0.005), (len(base), small, large)


DIALECT_UNITS = {
    "details never closed": "<details>\n<summary>Why does a question never end here?\n\n",
    "summaries never closed": "<details><summary>Why is the summary left open so long?\n\n"
    "</details>\n\n",
    "blank answers": "<details><summary>What follows a long run of spaces here?</summary>"
    + " " * 2000
    + "x</details>\n\n",
    "lettered options": "#### Q?\n\n- A: one\n- B) two\n- [ ] three\n\n",
    "numbered headings": "1. ### What is asked in a numbered heading?\n\n    answer\n\n",
    # issue #25's layouts
    "labelled summaries": "## 1. How is this asked?\n\n<details><summary><b>Answer</b></summary>"
    "\n\nBy a heading.\n\n</details>\n\n",
    "labelled summaries without a question": "<details><summary>Answer</summary>\n\nx\n\n"
    "</details>\n\n",
    "output quizzes": "#### 1. What is the output?\n\n```js\nf()\n```\n\n- 1: a\n- 2: b\n\n"
    "<details><summary>Answer</summary>\n\n##### Answer: 2\n\nWhy.\n\n</details>\n\n---\n\n",
    "numbered option lines": "#### What prints?\n\n1: a\n2: b\n\nAnswer: 1\n\n---\n\n",
    "answers by option text": "#### Which?\n\n1. true\n2. false\n\n**Answer: false**\n\n---\n\n",
}
"""Constructs of the other conventions' plugins, each run against the linear-time check (CI's
fixed examples once found one quadratic: a summary searched to the end of the text)."""


@pytest.mark.parametrize("unit", DIALECT_UNITS.values(), ids=DIALECT_UNITS.keys())
def test_dialect_constructs_parse_in_linear_time(unit: str) -> None:
    base = unit * max(1, 60_000 // len(unit))
    small, large = _parse_seconds(base), _parse_seconds(base * 8)
    assert large <= 20 * max(small, 0.005), (len(base), small, large)


HOSTILE_UNITS = {
    "nested quotes": "> " * 3000 + "deep\n\n",
    "nested lists": "".join("  " * i + "- level\n" for i in range(300)) + "\n",
    "emphasis": "*a **b _c __d " * 5000 + "\n\n",
    "links": "[a](" * 5000 + "\n\n",
    "unclosed strings": '<Foo a="x\n\n' * 200,
    "unclosed components": "<Bar>\ntext\n\n" * 200,
    "unclosed expressions": "<Foo a={`\n" * 500 + "\n",
    "braces": "{\n" * 2000 + "\n",
    "table": "| a | b | c |\n|---|---|---|\n" + "| x | y | z |\n" * 2000 + "\n",
    "broken quick checks": "### Quick Check\n\n**Q?**\n\n-> A. a\n-> B. b\n\n" * 300,
    "quick check": "### Quick Check\n\n**Q?**\n\n-> A. a\n   B. b\n\n<details>\n"
    "<summary>S</summary>\n\nWhy.\n\n</details>\n\n---\n\n",
    "long line": "word " * 100_000 + "\n\n",
    "html": "<div>\n" * 2000 + "\n",
    "fences": "```\ncode\n```\n\n" * 1000,
}


def test_ten_megabytes_of_hostile_input() -> None:
    """A 10 MB mix of the worst constructs, each still live, is read to the end.

    Its time is a benchmark figure (README), not asserted here; what is asserted is that every
    repeat of the mix was parsed: its cards and warnings grow with the number of repeats.
    """
    unit = "".join(HOSTILE_UNITS.values())
    repeats = 10_000_000 // len(unit) + 1
    text = "# Hostile\n\n" + unit * repeats
    one = parse("# Hostile\n\n" + unit, "hostile.md")
    result = parse(text, "hostile.md")
    check_result(text, result)
    assert len(text) >= 10_000_000
    assert len(result.guide.cards) == repeats * len(one.guide.cards) > 0
    # plus, from the second repeat on, a warning that its quiz repeats the first one's question
    repeated = (repeats - 1) * len(one.guide.quizzes)
    assert len(result.diagnostics) == repeats * len(one.diagnostics) + repeated > repeated


RUNS_OF_SPACES = {
    "spaces after an answer label": (
        "choice",
        lambda n: "# T\n\n#### Which one?\n\n- A: one\n- B: two\n\nAnswer" + " " * n + "!\n",
    ),
    "spaces before a labelled summary": (
        "details",
        lambda n: (
            "# T\n\n### Why?" + " " * n + "\n\n<details><summary>Answer</summary>\n\n"
            "Because.\n\n</details>\n"
        ),
    ),
    "spaces between option lines": (
        "details",
        lambda n: (
            "# T\n\n**Which?**\n\nA. one" + "\n" * n + "B. two\n\n<details><summary>"
            "Answer</summary>\n\nA\n\n</details>\n"
        ),
    ),
    "an unclosed tags comment": (
        "heading-answer",
        lambda n: "# T\n\n<!-- tags:" + " " * n + "\n\n### Why?\n\n#### Answer\n\nBecause.\n",
    ),
}
"""One construct whose run of spaces grows (issue #23: two conventions' regexes were cubic in
it: 0.2 s at 500 spaces, 11 s at 2,000)."""


@pytest.mark.parametrize("case", RUNS_OF_SPACES.values(), ids=RUNS_OF_SPACES.keys())
def test_a_growing_run_of_spaces_parses_in_linear_time(case: tuple[str, Any]) -> None:
    """Four times the spaces may take about four times as long; cubic would be 64 times."""
    dialect, make = case

    def seconds(n: int) -> float:
        best = float("inf")
        for _ in range(3):
            started = time.process_time()
            parse(make(n), "spaces.md", dialect)
            best = min(best, time.process_time() - started)
        return best

    small, large = seconds(400), seconds(1600)
    assert large <= 12 * max(small, 0.005), (small, large)


_PLAIN_TEXT = st.text(
    alphabet=st.one_of(
        st.characters(categories=("L", "N", "Zs")),
        st.sampled_from(" .,;:?'\"()/+=%#@-"),
    ),
    max_size=40,
)


@settings(max_examples=400, deadline=None)
@given(_PLAIN_TEXT)
def test_plain_cells_skip_the_parser_and_render_alike(text: str) -> None:
    """Plain text (the cells of most tables) is shown as itself without the inline parser and
    the sanitizer (#23: a 20,000-row table spent most of its build there): the same HTML as
    the full path, for any such text the fast path takes."""
    from guidedeck.render import _PLAIN, inline_html, markdown_renderer, sanitize

    full = sanitize(markdown_renderer().renderInline(text)).strip() if text.strip() else ""
    assert inline_html(text) == full
    assert _PLAIN.fullmatch("key 12, (value) = 3/4 + 50% #1 @home") is not None  # the fast path
