"""Tables of the owners' pages and the preference arena, on the same `Base`.

What an owner asked for is recorded here; whether it was *done* (applied to a dataset version,
purged from storage) is never stored, but read back from the dataset each time, so the page can
only show a promise as kept when the data says so.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from imagine.db.models import Base, new_id, utcnow


class OwnerLink(Base):
    """A platform account linked to a photo owner id (one each way); the claim code is stored as sha256."""

    __tablename__ = "owner_links"

    owner_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), unique=True, index=True)
    code_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    claimed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class OwnerRequest(Base):
    """An opt-out or deletion an owner asked for, and the platform event it wrote."""

    __tablename__ = "owner_requests"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    owner_id: Mapped[str] = mapped_column(String(64), index=True)
    user_id: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
    kind: Mapped[str] = mapped_column(String(32))  # an event type: owner_opted_out / post_opted_out / post_deleted
    post_id: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    event_id: Mapped[str] = mapped_column(String(64), unique=True)
    requested_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ArenaBattle(Base):
    """Two contestants' images for one prompt, shown in a random order, and the vote (once cast)."""

    __tablename__ = "arena_battles"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    prompt: Mapped[str] = mapped_column(Text)
    seed: Mapped[int] = mapped_column(BigInteger)
    left: Mapped[str] = mapped_column(String(64))  # contestant names, after the random swap
    right: Mapped[str] = mapped_column(String(64))
    # The delivered (guarded, stamped) images, in the user's gallery like any other generation.
    left_image_id: Mapped[str | None] = mapped_column(ForeignKey("images.id", ondelete="SET NULL"), nullable=True)
    right_image_id: Mapped[str | None] = mapped_column(ForeignKey("images.id", ondelete="SET NULL"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    outcome: Mapped[str | None] = mapped_column(String(16), nullable=True)  # left / right / tie / both_bad
    voted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True, index=True)


class Refusal(Base):
    """One prompt refused by the policy (category and code only, never the prompt): the operators' trend view."""

    __tablename__ = "refusals"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    category: Mapped[str] = mapped_column(String(64), index=True)
    code: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)


class PolicyReport(Base):
    """A refused user's "this was wrong": the prompt they chose to send, the rule that refused it, their note.

    Unlike ``Refusal`` (category and code of every refusal, never the prompt), a report carries the
    prompt because the user sent it for review; operators read them beside refusals by category.
    """

    __tablename__ = "policy_reports"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    user_id: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), nullable=True, index=True)
    prompt: Mapped[str] = mapped_column(Text)
    category: Mapped[str] = mapped_column(String(64), index=True)
    code: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(Text)
    comment: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
