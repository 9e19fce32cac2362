"""db.after_commit: work the database cannot undo (deleting a file) waits for the outer transaction's outcome."""

from __future__ import annotations

from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from portal.db import after_commit


def test_the_action_waits_for_the_outer_commit_and_the_alternative_runs_on_rollback():
    done: list[str] = []
    with Session(create_engine("sqlite://")) as session:
        session.execute(text("SELECT 1"))
        after_commit(session, lambda: done.append("committed"), otherwise=lambda: done.append("undone"))
        with session.begin_nested():
            pass  # a savepoint's release is not the commit
        session.begin_nested().rollback()  # nor is a savepoint's rollback the end
        assert done == []
        session.commit()
        assert done == ["committed"]

        session.execute(text("SELECT 1"))
        after_commit(session, lambda: done.append("committed again"), otherwise=lambda: done.append("undone"))
        session.rollback()
        session.commit()
    assert done == ["committed", "undone"]
