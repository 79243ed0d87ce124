"""images.source_image_id: the gallery image an edit or variation was made from.

Revision ID: 0900_image_source
Revises: 0800_job_instance
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0900_image_source"
down_revision = "0800_job_instance"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("images") as batch:
        batch.add_column(sa.Column("source_image_id", sa.String(32), nullable=True))
        batch.create_index("ix_images_source_image_id", ["source_image_id"])
        batch.create_foreign_key("fk_images_source_image_id", "images", ["source_image_id"], ["id"],
                                 ondelete="SET NULL")


def downgrade() -> None:
    with op.batch_alter_table("images") as batch:
        batch.drop_constraint("fk_images_source_image_id", type_="foreignkey")
        batch.drop_index("ix_images_source_image_id")
        batch.drop_column("source_image_id")
