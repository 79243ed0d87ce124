"""policy_reports: refused users' "this was wrong" reports, for operators.

Revision ID: 1000_policy_reports
Revises: 0900_image_source
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "1000_policy_reports"
down_revision = "0900_image_source"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "policy_reports",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("user_id", sa.String(32), sa.ForeignKey("users.id", ondelete="SET NULL"), nullable=True),
        sa.Column("prompt", sa.Text(), nullable=False),
        sa.Column("category", sa.String(64), nullable=False),
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_policy_reports_user_id", "policy_reports", ["user_id"])
    op.create_index("ix_policy_reports_category", "policy_reports", ["category"])
    op.create_index("ix_policy_reports_created_at", "policy_reports", ["created_at"])


def downgrade() -> None:
    op.drop_table("policy_reports")
