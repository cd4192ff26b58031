"""docs/reference/rules.md shows the rule tables exactly as the code has them."""

from __future__ import annotations

from tests.docs_tables import BEGIN, PAGE, render


def test_rule_reference_matches_the_code() -> None:
    text = PAGE.read_text(encoding="utf-8")
    assert BEGIN in text
    generated = text.split(BEGIN, 1)[0] + render()
    assert text == generated, "docs/reference/rules.md is stale: run `python -m tests.docs_tables`"
