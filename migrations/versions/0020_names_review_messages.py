"""quotas and programme rooms get an English name; a payment's review note becomes a stored message (its English
msgid and parameters, amounts as money) shown in the reader's language

Revision ID: 0020_names_review_messages
Revises: 0019_booth_balance_deadline
Create Date: 2026-12-07 13:10:00
"""
import json
import re

from alembic import op
import sqlalchemy as sa


revision = '0020_names_review_messages'
down_revision = '0019_booth_balance_deadline'
branch_labels = None
depends_on = None

#: the notes written before: "asked 250000 VND, received 100000 VND" (+ " so far" for part of the amount)
OLD_AMOUNTS = re.compile(r"asked (\d+) ([A-Z]{3}), received (\d+) ([A-Za-z]{3})( so far)?$")
OTHER_AMOUNT = "%(asked)s was asked for; %(received)s arrived."
PART_OF_THE_AMOUNT = "%(asked)s was asked for; %(received)s has arrived so far, %(owed)s is still owed."


def _message(note: str) -> dict:
    """The stored message of an old note; a refusal's English text is its msgid when it had no parameters."""
    found = OLD_AMOUNTS.match(note)
    if found is None:
        return {"message": note, "params": {}}
    asked, asked_currency, received, received_currency, so_far = found.groups()
    params = {"asked": {"amount": int(asked), "currency": asked_currency},
              "received": {"amount": int(received), "currency": received_currency.upper()}}
    if so_far:
        params["owed"] = {"amount": int(asked) - int(received), "currency": asked_currency}
    return {"message": PART_OF_THE_AMOUNT if so_far else OTHER_AMOUNT, "params": params}


def upgrade() -> None:
    op.add_column('quotas', sa.Column('name_en', sa.String(length=120), server_default='', nullable=False))
    op.add_column('programme_items', sa.Column('stage_en', sa.String(length=80), server_default='', nullable=False))
    op.add_column('payments', sa.Column('review_message', sa.JSON(), nullable=True))
    connection = op.get_bind()
    payments = sa.table('payments', sa.column('id', sa.Integer), sa.column('review_note', sa.Text),
                        sa.column('review_message', sa.JSON))
    for payment_id, note in connection.execute(
            sa.select(payments.c.id, payments.c.review_note).where(payments.c.review_note != '')).all():
        connection.execute(payments.update().where(payments.c.id == payment_id)
                           .values(review_message=_message(note)))
    # A plain DROP COLUMN (SQLite 3.35+ and PostgreSQL): rebuilding payments on SQLite would drop the old table,
    # and its refunds with it by cascade.
    op.execute('ALTER TABLE payments DROP COLUMN review_note')


def downgrade() -> None:
    op.add_column('payments', sa.Column('review_note', sa.Text(), server_default='', nullable=False))
    connection = op.get_bind()
    payments = sa.table('payments', sa.column('id', sa.Integer), sa.column('review_note', sa.Text),
                        sa.column('review_message', sa.JSON))
    for payment_id, message in connection.execute(
            sa.select(payments.c.id, payments.c.review_message).where(payments.c.review_message.is_not(None))).all():
        stored = message if isinstance(message, dict) else json.loads(message)
        params = {name: f"{value['amount']} {value['currency']}" if isinstance(value, dict) else value
                  for name, value in stored["params"].items()}
        connection.execute(payments.update().where(payments.c.id == payment_id)
                           .values(review_note=stored["message"] % params if params else stored["message"]))
    op.execute('ALTER TABLE payments DROP COLUMN review_message')
    op.execute('ALTER TABLE programme_items DROP COLUMN stage_en')
    op.execute('ALTER TABLE quotas DROP COLUMN name_en')
