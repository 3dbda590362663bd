"""Reasoning effort (OpenAI's words) ↔ thinking budget (Anthropic's tokens): one table.

Anthropic requires ``budget_tokens`` ≥ 1024 and below ``max_tokens``; OpenAI takes an
effort word. The table is data so a user's settings can override it later.
"""

from __future__ import annotations

MIN_BUDGET = 1024

# effort → budget tokens. "none" means thinking off.
EFFORT_BUDGETS: dict[str, int] = {
    "minimal": 1024,
    "low": 4096,
    "medium": 10000,
    "high": 24000,
    "xhigh": 32000,
    "max": 64000,
}


def effort_to_budget(effort: str, max_tokens: int | None,
                     table: dict[str, int] = EFFORT_BUDGETS) -> int | None:
    """A budget for ``effort`` that fits under ``max_tokens``; None when thinking must be off.

    None for effort "none", and when ``max_tokens`` leaves no room for the 1024 minimum
    plus at least one output token.
    """
    if effort == "none":
        return None
    budget = table.get(effort, table["medium"])
    if max_tokens is not None:
        if max_tokens <= MIN_BUDGET:
            return None
        budget = min(budget, max_tokens - 1)
    return max(budget, MIN_BUDGET)


def budget_to_effort(budget: int | None, table: dict[str, int] = EFFORT_BUDGETS) -> str:
    """The smallest effort whose budget covers ``budget`` (the largest if none does)."""
    if not budget:
        return "medium"
    for effort, tokens in sorted(table.items(), key=lambda kv: kv[1]):
        if budget <= tokens:
            return effort
    return max(table, key=table.get)
