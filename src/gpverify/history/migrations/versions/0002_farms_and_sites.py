"""Many farms in one history: the runner machine (site) of each run and baseline, a run summary for the fleet
page, the impact of each result, and indexes for "the last run of this farm"."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("runs", sa.Column("site", sa.Text, nullable=False, server_default=""))
    op.add_column("runs", sa.Column("summary", sa.Text, nullable=False, server_default="{}"))
    op.add_column("results", sa.Column("impact", sa.Text))
    op.add_column("baselines", sa.Column("site", sa.Text, nullable=False, server_default=""))
    op.create_index("ix_runs_farm_id", "runs", ["farm", "id"])
    op.create_index("ix_baselines_farm_name", "baselines", ["farm", "name"])


def downgrade() -> None:
    op.drop_index("ix_baselines_farm_name", "baselines")
    op.drop_index("ix_runs_farm_id", "runs")
    with op.batch_alter_table("baselines") as batch:
        batch.drop_column("site")
    with op.batch_alter_table("results") as batch:
        batch.drop_column("impact")
    with op.batch_alter_table("runs") as batch:
        batch.drop_column("summary")
        batch.drop_column("site")
