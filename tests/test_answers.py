"""Cards that answer (issue #24): every question's answer reaches its cards, in pieces a phone
can show, and the notes a user has keep their identity.

The layouts' expected cards are pinned as data beside their fixtures (``tests/fixtures/parse/
answer_*.yaml``, checked by ``test_parse_fixtures``); here the cards go through the real Anki
engine: built, imported, rendered, reviewed and rebuilt.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from guidedeck.cli import main
from tests.anki_engine import (
    Rendered,
    assert_every_deck_imports,
    fresh_collection,
    import_package,
    render_all,
    visible_text,
)
from tests.answer_points import answer_points, carried, prose_words_html
from tests.conftest import CORPUS, FIXTURES, corpus_guides

DIALECTS = CORPUS.parent / "dialects"

ANSWERS = FIXTURES / "answers"
LONG = FIXTURES / "parse" / "answer_long_steps.md"
PLACEHOLDERS = FIXTURES / "parse" / "answer_placeholders.md"
LIMIT = 350


def _build(*args: str) -> str:
    result = CliRunner().invoke(main, ["build", *args])
    assert result.exit_code == 0 and "Traceback" not in result.output, result.output
    return result.output


def _cards(guide: Path, tmp_path: Path) -> list[Rendered]:
    """``guide`` (a copy: a build writes a lock beside it) built, imported and rendered."""
    copy = tmp_path / "guide" / guide.name
    copy.parent.mkdir(parents=True)
    shutil.copyfile(guide, copy)
    out = tmp_path / "out"
    _build(str(copy), "--out", str(out))
    col = fresh_collection(tmp_path / "anki")
    try:
        for deck in sorted(out.glob("*.apkg")):
            import_package(col, deck)
        return sorted(render_all(col), key=lambda c: c.due)
    finally:
        col.close()


def _scenarios(cards: list[Rendered]) -> list[Rendered]:
    return [c for c in cards if c.notetype == "guidedeck Scenario"]


def _back_words(card: Rendered) -> int:
    """Words of prose on the back, the front it repeats and code blocks aside."""
    back = card.answer.split('<hr id="answer">', 1)[-1]
    return prose_words_html(back)


def test_a_long_answer_is_an_overview_and_a_card_per_point(tmp_path: Path) -> None:
    cards = _scenarios(_cards(LONG, tmp_path))
    question, *parts, short = cards
    front, back = visible_text(question.question), visible_text(question.answer)
    assert "Design a limiter that treats every client fairly" in front
    # the overview: every point, with its key content; the code point by its decisive line
    for said in ("Step 1: Choose the Algorithm", "A token bucket per client allows short bursts",
                 "Step 3: Enforce It at the Edge", "limit_req zone=per_client burst=20 nodelay;",
                 "Step 4: Tell the Client", "Answer 429 with a Retry-After header"):  # fmt: skip
        assert said in back, said
    assert "5 more card(s), one per point" in back
    # a card per point, the long one in two; each says where it sits
    prompts = [visible_text(p.question) for p in parts]
    assert [re.search(r"Part (\d) of 5", p).group(1) for p in prompts] == list("12345")  # type: ignore[union-attr]
    assert "Step 2: Keep the Count in One Place (continued, 2)" in prompts[2]
    assert all('class="gd-level-3 gd-here"' in p.answer for p in parts)
    assert "limit_req" in parts[3].answer and "Retry-After" in parts[4].answer
    # the whole text of the long step is on its two cards, in order
    text = LONG.read_text(encoding="utf-8")
    step2 = text[text.index("### Step 2") : text.index("### Step 3")].split("\n", 1)[1]
    first, last = step2.split()[:12], step2.split()[-12:]
    assert " ".join(first) in " ".join(visible_text(parts[1].answer).split())
    assert " ".join(last) in " ".join(visible_text(parts[2].answer).split())
    # phone-sized: no back over the limit; a short answer stays whole on one card
    assert all(_back_words(c) <= LIMIT for c in cards), [_back_words(c) for c in cards]
    assert "Each node sees a sixth of the traffic" in visible_text(short.answer)


def test_placeholders_make_no_card_and_say_where(tmp_path: Path) -> None:
    guide = tmp_path / PLACEHOLDERS.name
    shutil.copyfile(PLACEHOLDERS, guide)
    output = _build(str(guide), "--out", str(tmp_path / "out"))
    for line, said in ((13, "'TBD'"), (25, "'Coming soon!'"), (37, "'To be completed.")):
        assert f"answer_placeholders.md:{line}:1: warning: Question" in output
        assert said in output
    cards = _scenarios(_cards(PLACEHOLDERS, tmp_path / "again"))
    assert [visible_text(c.question).count("SYN flood") for c in cards] == [1]


def test_the_question_note_a_user_has_keeps_its_guid_and_reviews(tmp_path: Path) -> None:
    """A deck and lock of the release before #24 (the question's one card, answered by its
    outline only): the rebuilt question card is that note, updated with its reviews kept; its
    parts are new notes."""
    guide = tmp_path / "guides" / "rate-limiting.md"
    guide.parent.mkdir()
    shutil.copyfile(ANSWERS / "rate-limiting.md", guide)
    shutil.copyfile(ANSWERS / "rate-limiting.before.guidedeck.lock",
                    guide.with_name("rate-limiting.guidedeck.lock"))  # fmt: skip
    col = fresh_collection(tmp_path / "anki")
    try:
        import_package(col, ANSWERS / "rate-limiting.before.apkg")
        before = {col.get_note(n).guid: n for n in col.find_notes("")}
        _answer_every_card(col)
        reviews = _review_state(col)
        out = tmp_path / "out"
        _build(str(guide), "--out", str(out))
        log = import_package(col, out / "rate-limiting.apkg")
        after = {col.get_note(n).guid: n for n in col.find_notes("")}
        assert set(before) <= set(after), "no note the user had is lost"
        assert len(log.new) == 5 and len(log.updated) >= 1  # the parts; the question updated
        assert {g: reviews[n] for g, n in before.items()} == {
            g: _review_state(col)[after[g]] for g in before
        }, "every review kept"
        question = next(n for g, n in after.items() if g in before and "Design a rate" in
                        col.get_note(n)["Title"])  # fmt: skip
        assert "5 more card(s), one per point" in col.get_note(question)["Outline"]
    finally:
        col.close()


STEP_3 = "### Step 3: Enforce It at the Edge"


def test_editing_inserting_and_removing_steps_keeps_every_other_part(tmp_path: Path) -> None:
    """Each later edit to a long answer (a step edited, a step inserted, a step removed) lands
    on its own part's note: every other part keeps its note, and no review is lost."""
    guide = tmp_path / "guides" / "rate-limiting.md"
    guide.parent.mkdir()
    shutil.copyfile(ANSWERS / "rate-limiting.md", guide)
    out = tmp_path / "out"
    col = fresh_collection(tmp_path / "anki")

    def rebuild(old: str, new: str, added: int) -> tuple[dict[str, str], str]:
        text = guide.read_text(encoding="utf-8")
        assert old in text
        guide.write_text(text.replace(old, new, 1), encoding="utf-8")
        output = _build(str(guide), "--out", str(out))
        log = import_package(col, out / "rate-limiting.apkg")
        assert len(log.new) == added, (old, len(log.new))
        _answer_every_card(col)
        return _parts_by_point(col), output

    try:
        _build(str(guide), "--out", str(out))
        import_package(col, out / "rate-limiting.apkg")
        _answer_every_card(col)
        first = _parts_by_point(col)
        edited, _ = rebuild("allows short bursts", "allows brief bursts", added=0)
        assert edited == first
        inserted, _ = rebuild(STEP_3, INSERTED + STEP_3, added=1)
        assert {k: inserted[k] for k in first} == first
        assert "Step 2b: Share the Script" in inserted
        tell = ANSWERS.joinpath("rate-limiting.md").read_text(encoding="utf-8")
        step4 = tell[tell.index("### Step 4") : tell.index("### Question 2")]
        removed, output = rebuild(step4, "", added=0)
        assert {k: removed.get(k) for k in inserted if "Tell the Client" not in k} == {
            k: g for k, g in inserted.items() if "Tell the Client" not in k
        }
        assert "1 removed note(s)" in output or "removed" in output
    finally:
        col.close()


INSERTED = (
    "### Step 2b: Share the Script\n\nOne Lua script checks and decrements the bucket in a "
    "single round trip.\n\n"
)


def _parts_by_point(col: object) -> dict[str, str]:
    """GUID of each scenario note, by its title (the question's card, then each part's)."""
    out = {}
    for nid in col.find_notes('"note:guidedeck Scenario"'):  # type: ignore[attr-defined]
        note = col.get_note(nid)  # type: ignore[attr-defined]
        point = re.search(r"<strong>(.*?)</strong>", note["Challenge"])
        key = (
            visible_text(point.group(1))
            if "gd-part-prompt" in note["Challenge"] and point
            else note["Title"]
        )
        out[key] = note.guid
    return out


def _answer_every_card(col: object) -> None:
    for cid in col.find_cards(""):  # type: ignore[attr-defined]
        card = col.get_card(cid)  # type: ignore[attr-defined]
        card.start_timer()
        col.sched.answerCard(card, 3)  # type: ignore[attr-defined]


def _review_state(col: object) -> dict[int, tuple[int, int, int]]:
    rows = col.db.all("select nid, ivl, reps, type from cards")  # type: ignore[attr-defined]
    return {nid: (ivl, reps, kind) for nid, ivl, reps, kind in rows}


@pytest.fixture(scope="module")
def corpus_backs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[Rendered]]:
    """Every card of the corpus, built, imported into Anki and rendered, by guide."""
    guides = corpus_guides()
    if not guides:
        pytest.skip(f"shared corpus not found at {CORPUS}")
    work = tmp_path_factory.mktemp("corpus")
    for path in guides:
        shutil.copyfile(path, work / path.name)
    out = work / "out"
    _build(str(work), "--out", str(out))
    assert_every_deck_imports(sorted(out.glob("*.apkg")), work / "seen", set())
    by_guide = {}
    for path in guides:
        col = fresh_collection(work / "anki" / path.stem)
        try:
            import_package(col, out / f"{path.stem}.apkg")
            by_guide[path.name] = render_all(col)
        finally:
            col.close()
    return by_guide


def test_corpus_answer_points_reach_the_backs(corpus_backs: dict[str, list[Rendered]]) -> None:
    """Per guide, 95% or more of the answer points (a step heading or bold step line with the
    first sentence under it) are on a card's back; no back carries over 350 words of prose."""
    shares = {}
    for name, cards in corpus_backs.items():
        points = answer_points((CORPUS / name).read_text(encoding="utf-8"))
        backs = [c.answer.split('<hr id="answer">', 1)[-1] for c in cards]
        shares[name] = carried(points, backs) / len(points) if points else 1.0
        too_long = [(c.notetype, _back_words(c)) for c in cards if _back_words(c) > LIMIT]
        assert not too_long, (name, too_long)
    assert all(share >= 0.95 for share in shares.values()), shares


SKIPS = FIXTURES / "parse" / "skip_markers.md"


@pytest.mark.parametrize("command", ["build", "list"])
def test_what_the_author_leaves_out_is_said_and_never_fails(tmp_path: Path, command: str) -> None:
    """``<!-- guidedeck: skip -->`` before a table or a section, and ``guidedeck: {skip:
    [kind]}`` in front matter, leave those out: each is a note (not a warning) in ``build`` and
    ``list``, and ``--strict`` still passes."""
    guide = tmp_path / "skip_markers.md"
    shutil.copyfile(SKIPS, guide)
    args = [command, str(guide), "--strict"]
    args += ["--out", str(tmp_path / "out")] if command == "build" else []
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    for said in ("skip_markers.md:1:1: note: 1 contrast card(s) left out",
                 "skip_markers.md:12:1: note: a table (to line 14) left out",
                 "skip_markers.md:21:1: note: the section 'Question 1: An exercise"):  # fmt: skip
        assert said in result.output, said
    if command == "build":
        cards = _cards(guide, tmp_path / "again")
        text = " ".join(visible_text(c.question + c.answer) for c in cards)
        assert "Instances" not in text and "left out" not in text and "Junior" not in text
        assert [c.notetype for c in cards] == ["guidedeck Fact", "guidedeck Scenario"]


def _question_files(folder: Path, readme: str | None) -> None:
    folder.mkdir(parents=True)
    for n, (asked, said) in enumerate((("What does `git stash` keep?", "Uncommitted changes."),
                                       ("What does `git bisect` find?", "The first bad commit."),
                                       ("What is a detached HEAD?", "HEAD on a commit, no branch.")
                                       )):  # fmt: skip
        (folder / f"q{n}.md").write_text(f"### {asked}\n\n#### Answer\n\n{said}\n")
    if readme is not None:
        (folder / "README.md").write_text(readme)


def test_a_folder_of_one_question_files_is_one_deck(tmp_path: Path) -> None:
    """A folder of files that each hold one question is one deck, named by its README's title
    (else the folder); a folder of ordinary guides still gives one deck per guide."""
    _question_files(tmp_path / "git-questions", "# Git Questions\n\n- [q0](q0.md)\n")
    _question_files(tmp_path / "loose", None)
    out = tmp_path / "out"
    _build(str(tmp_path / "git-questions"), str(tmp_path / "loose"), "--out", str(out))
    assert sorted(p.name for p in out.glob("*.apkg")) == ["git-questions.apkg", "loose.apkg"]
    col = fresh_collection(tmp_path / "anki")
    try:
        for deck in sorted(out.glob("*.apkg")):
            import_package(col, deck)
        names = sorted(d.name for d in col.decks.all_names_and_ids() if d.name != "Default")
        assert names == ["Interview Guides", "Interview Guides::Git Questions",
                         "Interview Guides::loose"]  # fmt: skip
        assert col.card_count() == 6
    finally:
        col.close()
    guides = tmp_path / "guides"
    guides.mkdir()
    for name in ("answer_placeholders.md", "answer_solution_headings.md"):
        shutil.copyfile(FIXTURES / "parse" / name, guides / name)
    _build(str(guides), "--out", str(tmp_path / "out2"))
    assert len(list((tmp_path / "out2").glob("*.apkg"))) == 2


@pytest.mark.skipif(not (DIALECTS / "Chalarangelo-30-seconds-of-interviews").is_dir(),
                    reason="../shared/dialects not found")  # fmt: skip
@pytest.mark.parametrize(("sample", "questions"), [
    ("Chalarangelo-30-seconds-of-interviews", 15), ("yangshun-front-end-interview-handbook", 10)
])  # fmt: skip
def test_one_question_per_file_collections_make_one_deck(
    tmp_path: Path, sample: str, questions: int
) -> None:
    copy = tmp_path / sample
    shutil.copytree(DIALECTS / sample, copy)
    out = tmp_path / "out"
    _build(str(copy), "--out", str(out))
    (deck,) = out.glob("*.apkg")
    col = fresh_collection(tmp_path / "anki")
    try:
        import_package(col, deck)
        cards = render_all(col)
        asked = [c for c in cards if c.notetype == "guidedeck Scenario" and "part-prompt" not in
                 c.fields["Challenge"]]  # fmt: skip
        assert len(asked) == questions
        assert len({col.decks.name(c.did) for c in map(col.get_card, col.find_cards(""))}) == 1
    finally:
        col.close()


def test_contrast_fronts_name_their_question(tmp_path: Path) -> None:
    """Seen on its own, a contrast's front says which question it belongs to, and which part
    of it where the question holds several."""
    from guidedeck.parse import parse

    guide = FIXTURES / "parse" / "contrast_parts.md"
    parsed = parse(guide.read_text(encoding="utf-8"), guide.name).guide.contrasts
    cards = _cards(guide, tmp_path)
    fronts = [visible_text(c.question) for c in cards if c.notetype == "guidedeck Contrast"]
    assert len(fronts) == len(parsed) >= 4
    for contrast in parsed:
        assert contrast.section is not None
        title = visible_text(contrast.section.title)
        mine = [f for f in fronts if title in f]
        assert mine, title
        if len(mine) > 1:
            parts = {visible_text(c.part) for c in parsed if c.section == contrast.section}
            assert all(p and any(p in f for f in mine) for p in parts), (parts, mine)
    assert len(set(fronts)) == len(fronts), "several in one question: each names its part"
