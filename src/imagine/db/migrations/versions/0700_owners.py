"""Owners' pages, preference arena, operator views: owner_links, owner_requests, arena_battles, refusals.

A branch of its own off the service's first revision (label ``owners``), so the service can add
revisions without a merge; the service upgrades to ``heads``.

Revision ID: 0700_owners
Revises: 0001
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0700_owners"
down_revision = "0001"
branch_labels = ("owners",)
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "owner_links",
        sa.Column("owner_id", sa.String(64), primary_key=True),
        sa.Column("user_id", sa.String(32), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("code_sha256", sa.String(64), nullable=False, unique=True),
        sa.Column("claimed_at", TS, nullable=False),
    )
    op.create_index("ix_owner_links_user_id", "owner_links", ["user_id"], unique=True)
    op.create_table(
        "owner_requests",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("owner_id", sa.String(64), nullable=False),
        sa.Column("user_id", sa.String(32), sa.ForeignKey("users.id", ondelete="SET NULL"), nullable=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("post_id", sa.String(64), nullable=True),
        sa.Column("event_id", sa.String(64), nullable=False, unique=True),
        sa.Column("requested_at", TS, nullable=False),
    )
    op.create_index("ix_owner_requests_owner_id", "owner_requests", ["owner_id"])
    op.create_index("ix_owner_requests_post_id", "owner_requests", ["post_id"])
    op.create_table(
        "arena_battles",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("user_id", sa.String(32), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("prompt", sa.Text, nullable=False),
        sa.Column("seed", sa.BigInteger, nullable=False),
        sa.Column("left", sa.String(64), nullable=False),
        sa.Column("right", sa.String(64), nullable=False),
        sa.Column("left_image_id", sa.String(32), sa.ForeignKey("images.id", ondelete="SET NULL"), nullable=True),
        sa.Column("right_image_id", sa.String(32), sa.ForeignKey("images.id", ondelete="SET NULL"), nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("outcome", sa.String(16), nullable=True),
        sa.Column("voted_at", TS, nullable=True),
    )
    op.create_index("ix_arena_battles_user_id", "arena_battles", ["user_id"])
    op.create_index("ix_arena_battles_voted_at", "arena_battles", ["voted_at"])
    op.create_table(
        "refusals",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("category", sa.String(64), nullable=False),
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_index("ix_refusals_category", "refusals", ["category"])
    op.create_index("ix_refusals_created_at", "refusals", ["created_at"])


def downgrade() -> None:
    for table in ("refusals", "arena_battles", "owner_requests", "owner_links"):
        op.drop_table(table)
