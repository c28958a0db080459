"""The JSX tag scanner and the JavaScript literal reader, table-driven."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from guidedeck.parse.jsx import JsRaw, JsxError, TemplateString, parse_js_value, scan_tag
from tests.conftest import FIXTURES

VALUES: list[dict[str, Any]] = yaml.safe_load((FIXTURES / "jsx_values.yaml").read_text("utf-8"))


@pytest.mark.parametrize("case", VALUES, ids=[c["expr"][:30] for c in VALUES])
def test_js_literal_values(case: dict[str, Any]) -> None:
    value = parse_js_value(case["expr"])
    if case.get("raw"):
        assert value == JsRaw(case["expr"].strip())
    else:
        assert value == case["value"]


def test_template_literals_are_marked() -> None:
    assert isinstance(parse_js_value("`code`"), TemplateString)
    assert not isinstance(parse_js_value('"text"'), TemplateString)


TAGS = [
    ("<A/>", "A", {}, True),
    (
        "<A b=\"1\" c='2' d={3} e=`4` f />",
        "A",
        {"b": "1", "c": "2", "d": 3, "e": "4", "f": True},
        True,
    ),
    (
        '<Quiz client:load {...rest} {/* note */} q="x > y">',
        "Quiz",
        {"client:load": True, "q": "x > y"},
        False,
    ),
    ('<A\n  b="multi\n  line"\n>', "A", {"b": "multi\n  line"}, False),
    ('<A b="say \\"hi\\""/>', "A", {"b": 'say "hi"'}, True),
    ('<A b="keep \\* markdown \\| escapes"/>', "A", {"b": "keep \\* markdown \\| escapes"}, True),
    ('<Ns.Member x={{ a: "}" }}/>', "Ns.Member", {"x": {"a": "}"}}, True),
]


@pytest.mark.parametrize(("src", "name", "attrs", "closing"), TAGS, ids=[t[0][:25] for t in TAGS])
def test_scan_tag(src: str, name: str, attrs: dict[str, Any], closing: bool) -> None:
    tag = scan_tag(src, 0, len(src))
    assert tag.name == name
    assert {k: a.value for k, a in tag.attrs.items()} == attrs
    assert tag.self_closing is closing
    assert tag.end == len(src)


BROKEN = [
    ('<A b="open\n\nnext">', "never closed", 5),
    ("<A b={[1, 2}/>", "unbalanced", 11),
    ("<A b={`open}/>", "never closed", 6),
    ('<A b="x" b="y"/>', "given twice", 9),
    ("<A b=c/>", "needs a quoted", 5),
    ('<A b="1"', "never closed with '>'", 0),
    ('<A b={"no\nnewline"}/>', "never closed on its line", 6),
]


@pytest.mark.parametrize(("src", "message", "pos"), BROKEN, ids=[b[1] for b in BROKEN])
def test_broken_tags_raise_with_position(src: str, message: str, pos: int) -> None:
    with pytest.raises(JsxError) as caught:
        scan_tag(src, 0, len(src))
    assert message in caught.value.message
    assert caught.value.pos == pos
    assert pos <= caught.value.resume <= len(src)
