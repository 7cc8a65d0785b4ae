"""candidate_examples.text_hash: indexed digest for the webhook's exact-text lookup and uniqueness

The unique constraint on (candidate_id, text) put whole query texts into a B-tree: unindexed for
lookups by text alone (the webhook scanned the table on every unanswered call) and, on PostgreSQL,
over the index-row limit for long Chinese queries. Both now use a 32-hex-digit sha256 digest.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27 17:00:00
"""
from __future__ import annotations

import hashlib

import sqlalchemy as sa
from alembic import op


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

_examples = sa.table(
    'candidate_examples', sa.column('id', sa.Integer()), sa.column('text', sa.Text()),
    sa.column('text_hash', sa.String(32)),
)


def text_digest(text: str) -> str:
    """Frozen copy of ``fallback.store.schema.text_digest`` (a migration must not follow later code)."""
    return hashlib.sha256(text.encode('utf-8')).hexdigest()[:32]


def upgrade() -> None:
    with op.batch_alter_table('candidate_examples', schema=None) as batch_op:
        batch_op.add_column(sa.Column('text_hash', sa.String(length=32), nullable=True))
    conn = op.get_bind()
    rows = conn.execute(sa.select(_examples.c.id, _examples.c.text)).all()
    for start in range(0, len(rows), 1000):
        conn.execute(
            _examples.update().where(_examples.c.id == sa.bindparam('row_id')).values(text_hash=sa.bindparam('h')),
            [{'row_id': r.id, 'h': text_digest(r.text)} for r in rows[start:start + 1000]],
        )
    with op.batch_alter_table('candidate_examples', schema=None) as batch_op:
        batch_op.alter_column('text_hash', existing_type=sa.String(length=32), nullable=False)
        batch_op.drop_constraint('uq_candidate_examples_text', type_='unique')
        batch_op.create_unique_constraint('uq_candidate_examples_text_hash', ['candidate_id', 'text_hash'])
        batch_op.create_index(batch_op.f('ix_candidate_examples_text_hash'), ['text_hash'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('candidate_examples', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_candidate_examples_text_hash'))
        batch_op.drop_constraint('uq_candidate_examples_text_hash', type_='unique')
        batch_op.create_unique_constraint('uq_candidate_examples_text', ['candidate_id', 'text'])
        batch_op.drop_column('text_hash')
