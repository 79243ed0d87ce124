"""jobs.instance: which service process holds a queued or running job, so a restart recovers only its own.

Revision ID: 0800_job_instance
Revises: 0700_owners
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0800_job_instance"
down_revision = "0700_owners"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.add_column(sa.Column("instance", sa.String(64), nullable=True))
        batch.create_index("ix_jobs_instance_status", ["instance", "status"])


def downgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.drop_index("ix_jobs_instance_status")
        batch.drop_column("instance")
