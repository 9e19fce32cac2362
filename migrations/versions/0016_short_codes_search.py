"""tickets carry a short code to type at the door (unique), check-ins may be tests; tickets, users and
organisations keep their searched text folded (lower case, no accents) for accent-insensitive staff searches

Revision ID: 0016_short_codes_search
Revises: 0015_mentoring
Create Date: 2026-12-07 13:10:00
"""
from alembic import op
import sqlalchemy as sa

from portal.events.short_codes import new_short_code
from portal.search import SEARCH_TEXT_CHARS, fold


revision = '0016_short_codes_search'
down_revision = '0015_mentoring'
branch_labels = None
depends_on = None

#: table → the columns its search_text folds, in the models' order (Searchable.__search_fields__)
SEARCHED = {
    'tickets': ('attendee_name', 'attendee_email', 'attendee_organisation', 'short_code'),
    'users': ('full_name', 'email'),
    'organisations': ('name',),
}
BATCH = 1000


def _rows(connection, table: str, columns: tuple[str, ...]):
    """The table's rows in id order, a batch at a time, so a large table is never held in memory at once."""
    last_id = 0
    while True:
        batch = connection.execute(sa.text(
            f"SELECT id, {', '.join(columns)} FROM {table} WHERE id > :last ORDER BY id LIMIT {BATCH}"),
            {"last": last_id}).all()
        if not batch:
            return
        yield batch
        last_id = batch[-1].id


def _give_short_codes(connection) -> None:
    given: set[str] = set()
    for batch in _rows(connection, 'tickets', ('id',)):
        updates = []
        for row in batch:
            code = new_short_code()
            while code in given:
                code = new_short_code()
            given.add(code)
            updates.append({"id": row.id, "code": code})
        connection.execute(sa.text("UPDATE tickets SET short_code = :code WHERE id = :id"), updates)


def _fold_search_text(connection, table: str, columns: tuple[str, ...]) -> None:
    for batch in _rows(connection, table, columns):
        connection.execute(sa.text(f"UPDATE {table} SET search_text = :text WHERE id = :id"), [
            {"id": row.id, "text": fold(" ".join(str(value or "") for value in row[1:]))[:SEARCH_TEXT_CHARS]}
            for row in batch
        ])


def upgrade() -> None:
    connection = op.get_bind()
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.add_column(sa.Column('short_code', sa.String(length=8), nullable=True))
    _give_short_codes(connection)
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.alter_column('short_code', existing_type=sa.String(length=8), nullable=False)
        batch_op.create_unique_constraint(batch_op.f('uq_tickets_short_code'), ['short_code'])
    with op.batch_alter_table('check_ins', schema=None) as batch_op:
        batch_op.add_column(sa.Column('is_test', sa.Boolean(), server_default=sa.false(), nullable=False))
    for table, columns in SEARCHED.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('search_text', sa.String(length=SEARCH_TEXT_CHARS), server_default='',
                                          nullable=False))
        _fold_search_text(connection, table, columns)


def downgrade() -> None:
    for table in reversed(SEARCHED):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column('search_text')
    with op.batch_alter_table('check_ins', schema=None) as batch_op:
        batch_op.drop_column('is_test')
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_tickets_short_code'), type_='unique')
        batch_op.drop_column('short_code')
