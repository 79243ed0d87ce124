"""Contesting a refusal: a refused user says "this was wrong"; operators read the reports.

    report = file_report(db, policy, prompt="nude-coloured shoes", comment="a shoe colour", user_id=user.id)

The prompt is checked again here, so a report always records the rule that refused it (the client
says nothing about which rule that was), and a prompt the policy allows is not a report but an
error. Reports are listed for operators beside refusals by category (``recent_reports``,
``reports_by_code``), so a rule that nags shows up and gets fixed.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from imagine.db.models_owners import PolicyReport

MAX_PROMPT = 4000
MAX_COMMENT = 2000


class NotRefused(ValueError):
    """The reported prompt is allowed by the policy: nothing to contest."""


def file_report(db: Session, policy, *, prompt: str, comment: str = "", user_id: str | None = None) -> PolicyReport:  # noqa: ANN001 - PromptPolicy
    """Store a report on a refused prompt; ``NotRefused`` if the policy allows it."""
    if not prompt.strip():
        raise ValueError("the prompt to report is empty")
    if len(prompt) > MAX_PROMPT or len(comment) > MAX_COMMENT:
        raise ValueError(f"a report holds at most {MAX_PROMPT} characters of prompt and {MAX_COMMENT} of comment")
    decision = policy.check(prompt)
    if decision.allowed:
        raise NotRefused("this prompt is not refused by the policy; there is nothing to report")
    report = PolicyReport(user_id=user_id, prompt=prompt, category=str(decision.category), code=str(decision.code),
                          reason=str(decision.reason), comment=comment.strip())
    db.add(report)
    db.flush()
    return report


def recent_reports(db: Session, since: datetime, limit: int = 100) -> list[PolicyReport]:
    """Newest first."""
    query = select(PolicyReport).where(PolicyReport.created_at >= since).order_by(PolicyReport.created_at.desc()).limit(limit)
    return list(db.scalars(query))


def reports_by_code(reports: list[PolicyReport]) -> dict[str, int]:
    """How often each rule was contested, most contested first."""
    return dict(Counter(r.code for r in reports).most_common())
