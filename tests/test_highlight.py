"""Fence languages resolve, unknown ones stay plain, long blocks are trimmed, no inline colour."""

from __future__ import annotations

import pytest

from guidedeck.highlight import MAX_LINES, fence_language, highlight, lexer_for

COMMON = {
    "hcl": "Terraform", "tf": "Terraform", "terraform": "Terraform", "jsx": "JSX", "tsx": "TSX",
    "dockerfile": "Docker", "yaml": "YAML", "yml": "YAML", "bash": "Bash", "sh": "Bash",
    "shell": "Bash", "go": "Go", "java": "Java", "python": "Python", "sql": "SQL",
    "json": "JSON", "typescript": "TypeScript", "ts": "TypeScript", "javascript": "JavaScript",
    "js": "JavaScript",
}  # fmt: skip


@pytest.mark.parametrize(("fence", "lexer"), COMMON.items())
def test_common_fence_names_resolve(fence: str, lexer: str) -> None:
    found = lexer_for(fence)
    assert found is not None and found.name == lexer
    assert 'class="gd-' in highlight("x = 1\n", fence)


@pytest.mark.parametrize("fence", ["", "plaintext", "text", "no-such-language", "mermaid"])
def test_unknown_fences_are_plain_escaped_text(fence: str) -> None:
    out = highlight('<b class="x">&</b>\n', fence)
    assert "&lt;b class=&quot;x&quot;&gt;&amp;&lt;/b&gt;" in out or "&lt;b class=" in out
    assert "<span" not in out


def test_info_string_language() -> None:
    assert fence_language('python title="app.py"') == "python"
    assert fence_language("{.js}") == "js"
    assert fence_language("") == ""


def test_no_inline_style_ever() -> None:
    for fence in COMMON:
        assert "style=" not in highlight("def f(): return 'x'  # c\n", fence)


def test_long_blocks_are_trimmed_with_a_visible_count() -> None:
    code = "\n".join(f"line {n}" for n in range(MAX_LINES + 40))
    out = highlight(code, "text")
    assert f"line {MAX_LINES - 1}" in out
    assert f"line {MAX_LINES}\n" not in out
    assert "40 more lines" in out


def test_slightly_long_blocks_are_kept_whole() -> None:
    code = "\n".join(f"line {n}" for n in range(MAX_LINES + 3))
    out = highlight(code, "text")
    assert f"line {MAX_LINES + 2}" in out
    assert "more lines" not in out
