"""scorer_models: versioned learned scorers, so that every instance serves the same one; events.scorer

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-04 21:40:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import fallback.store.base

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    if 'scorer_models' in sa.inspect(op.get_bind()).get_table_names():
        # create_all (Database.connect) may have made it before this file was migrated
        op.drop_table('scorer_models')
    op.create_table('scorer_models',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', fallback.store.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('embedder', sa.String(length=128), nullable=False),
    sa.Column('keys', sa.Integer(), nullable=False),
    sa.Column('answers', sa.Integer(), nullable=False),
    sa.Column('max_key_id', sa.Integer(), nullable=False),
    sa.Column('report', sa.JSON(), nullable=False),
    sa.Column('blob', sa.LargeBinary(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('scorer', sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.drop_column('scorer')
    op.drop_table('scorer_models')
