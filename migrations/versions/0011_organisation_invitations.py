"""organisations: invitations that the invited person accepts; mailed links bound to the account's credentials

A member used to be added on the spot by address. Now an owner invites an address (organisation_invitations) and the
person joins only by accepting. In the same change, each single-use link (auth_tokens) records a fingerprint of the
account's address and password hash when it was issued, so a new password or address ends the links sent before;
links already sent get the fingerprint of the account as it is now, and keep working until it changes.

Revision ID: 0011_organisation_invitations
Revises: 0010_bank_account_reconcilers
Create Date: 2026-12-07 10:30:00
"""
import hashlib

from alembic import op
import sqlalchemy as sa

import portal.db


revision = '0011_organisation_invitations'
down_revision = '0010_bank_account_reconcilers'
branch_labels = None
depends_on = None


def _fingerprint(user_id: int, email: str, password_hash: str) -> str:
    # as portal.accounts.services.credentials_fingerprint computed it when this revision was written
    return hashlib.sha256(f"{user_id}\0{email}\0{password_hash}".encode()).hexdigest()


def upgrade() -> None:
    op.create_table('organisation_invitations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('invited_by_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.Enum('pending', 'accepted', 'declined', 'revoked', name='invitation_status', native_enum=False, length=32), nullable=False),
    sa.Column('created_at', portal.db.UTCDateTime(), nullable=False),
    sa.Column('expires_at', portal.db.UTCDateTime(), nullable=False),
    sa.Column('ended_at', portal.db.UTCDateTime(), nullable=True),
    sa.Column('ended_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['ended_by_id'], ['users.id'], name=op.f('fk_organisation_invitations_ended_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['invited_by_id'], ['users.id'], name=op.f('fk_organisation_invitations_invited_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_organisation_invitations_organisation_id_organisations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_organisation_invitations')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_organisation_invitations_token_hash'))
    )
    with op.batch_alter_table('organisation_invitations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_organisation_invitations_organisation_id'), ['organisation_id'], unique=False)

    with op.batch_alter_table('auth_tokens', schema=None) as batch_op:
        batch_op.add_column(sa.Column('credentials', sa.String(length=64), nullable=True))
    tokens = sa.table('auth_tokens', sa.column('id', sa.Integer), sa.column('user_id', sa.Integer),
                      sa.column('credentials', sa.String))
    users = sa.table('users', sa.column('id', sa.Integer), sa.column('email', sa.String),
                     sa.column('password_hash', sa.String))
    connection = op.get_bind()
    rows = connection.execute(sa.select(tokens.c.id, users.c.id, users.c.email, users.c.password_hash)
                              .join(users, users.c.id == tokens.c.user_id)).all()
    for token_id, user_id, email, password_hash in rows:
        connection.execute(tokens.update().where(tokens.c.id == token_id)
                           .values(credentials=_fingerprint(user_id, email, password_hash)))
    with op.batch_alter_table('auth_tokens', schema=None) as batch_op:
        batch_op.alter_column('credentials', existing_type=sa.String(length=64), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table('auth_tokens', schema=None) as batch_op:
        batch_op.drop_column('credentials')
    with op.batch_alter_table('organisation_invitations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_organisation_invitations_organisation_id'))
    op.drop_table('organisation_invitations')
