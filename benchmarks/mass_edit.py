"""A guide made for the mass-edit case: one big table and many quizzes, before and after an edit
that touches every card (the table's header renamed, one word changed in every quiz).

Matching each changed card to the note it was used to be quadratic in the number of changed
cards; this guide keeps that honest. Used by ``benchmarks/run.py`` and by the tests.
"""

from __future__ import annotations

ROWS = 1_000
QUIZZES = 1_000


def mass_guide(edited: bool, rows: int = ROWS, quizzes: int = QUIZZES) -> str:
    """The guide's text; ``edited`` renames the table header and rewords every quiz."""
    header = "| Service | Port | Protocol |" if edited else "| Name | Port | Transport |"
    lines = ["# Mass Edit Guide", "", "## Ports", "", header, "|---|---|---|"]
    lines += [f"| service-{n} | {10_000 + n} | tcp variant {n % 7} |" for n in range(rows)]
    verb = "choose" if edited else "pick"
    for n in range(quizzes):
        lines += [
            "",
            "### Quick Check",
            "",
            f"**Which port would you {verb} for service {n} behind gateway {n * 7 % 1_000}?**",
            "",
            f"-> A. **{10_000 + n}**",
            f"   B. {20_000 + n}",
            "",
            "<details>",
            "<summary>See Answer</summary>",
            "",
            f"Service {n} listens on {10_000 + n}.",
            "",
            "</details>",
        ]
    return "\n".join(lines) + "\n"
