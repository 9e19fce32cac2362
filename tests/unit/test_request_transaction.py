"""One place where a request's transaction ends (db.end_request): a write request commits when it answers with a
success or a redirect, and keeps nothing when it answers with an error; views never commit themselves."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask import Response
from sqlalchemy import select

from portal.accounts.models import User
from portal.db import db_session, end_request, keep_refused_writes

ROOT = Path(__file__).resolve().parents[2]


def answer(app, status: int, *, method: str = "POST", keep: bool = False) -> None:
    """A request that adds a user, then answers with `status`."""
    with app.test_request_context("/", method=method):
        session = db_session()
        session.add(User(email="hoa@example.vn", full_name="Nguyễn Thị Hoa", locale="vi", password_hash="x"))
        session.flush()
        if keep:
            keep_refused_writes()
        end_request(Response(status=status))


def saved_users(db) -> list[str]:
    with db.session_factory() as s:
        return list(s.scalars(select(User.email)))


@pytest.mark.parametrize("status", [200, 201, 302, 303])
def test_a_request_answering_a_success_or_a_redirect_commits(app, db, status):
    answer(app, status)
    assert saved_users(db) == ["hoa@example.vn"]


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 500])
def test_a_request_answering_an_error_keeps_nothing(app, db, status):
    answer(app, status)
    assert saved_users(db) == []


def test_a_refused_request_may_keep_what_must_be_kept(app, db):
    answer(app, 401, keep=True)  # as a failed login keeps its audit entry
    assert saved_users(db) == ["hoa@example.vn"]


def test_a_read_request_commits_nothing(app, db):
    answer(app, 200, method="GET")
    assert saved_users(db) == []


def test_views_never_commit_or_roll_back_themselves():
    """A refusal a view shows itself ends its transaction with end_refused; the rest is db.end_request's."""
    views = [*ROOT.glob("portal/**/*views.py"), ROOT / "portal/web.py"]
    assert len(views) > 10
    found = {str(path.relative_to(ROOT)): line for path in views for line in path.read_text().splitlines()
             if re.search(r"\.(commit|rollback)\(\)", line)}
    assert found == {}
