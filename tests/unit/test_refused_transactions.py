"""end_refused: a refused request ends its transaction without losing what it loaded, and never keeps a write."""

from __future__ import annotations

from sqlalchemy import event, select

from portal.accounts.models import User
from portal.db import end_refused


def _statements(engine):
    sent: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda c, cur, statement, *rest: sent.append(statement))
    return sent


def test_a_transaction_that_wrote_nothing_keeps_what_it_loaded(db, make_user):
    make_user(name="Nguyễn Thị Hoa")
    session = db.write_session_factory()
    user = session.scalars(select(User)).one()
    end_refused(session)
    assert not session.in_transaction()
    sent = _statements(db.engine)
    assert user.full_name == "Nguyễn Thị Hoa"
    assert sent == []  # still loaded: a rollback would have expired it
    session.close()


def test_a_transaction_that_wrote_is_rolled_back(db, make_user):
    make_user(name="Nguyễn Thị Hoa")
    session = db.write_session_factory()
    session.scalars(select(User)).one().full_name = "Changed"
    session.flush()
    end_refused(session)
    session.close()
    with db.session_factory() as fresh:
        assert fresh.scalars(select(User.full_name)).one() == "Nguyễn Thị Hoa"


def test_a_pending_change_is_not_committed_either(db, make_user):
    make_user(name="Nguyễn Thị Hoa")
    session = db.write_session_factory()
    session.scalars(select(User)).one().full_name = "Changed"
    end_refused(session)
    session.close()
    with db.session_factory() as fresh:
        assert fresh.scalars(select(User.full_name)).one() == "Nguyễn Thị Hoa"
