"""Suggestions with reasons in words, and the cohort matching: m mentors at most, capacities, conflicts, the best
total score, a proposal the manager publishes once."""

from __future__ import annotations

import pytest
from flask_babel import force_locale
from sqlalchemy import select

from portal.accounts.models import OrganisationMember, User
from portal.db import utcnow
from portal.errors import Invalid
from portal.mentoring import matching, profiles
from portal.mentoring.models import MatchStatus, MentorMatch
from portal.notifications.models import OutboxMessage
from tests.support.mentoring import make_mentor, make_startup


@pytest.fixture(autouse=True)
def _request(app):
    with app.test_request_context(), force_locale("en"):
        yield


def needs(db, organisation_id: int, sector: str, functions: list[str], languages: list[str]) -> None:
    with db.transaction() as s:
        profiles.save_needs(s, organisation_id, {"sector": sector, "stage": "mvp", "functions": functions,
                                                 "languages": languages}, utcnow())


def test_suggestions_rank_mentors_and_say_why(app, db, make_user):
    _a, banker = make_mentor(db, make_user, name="Banker", sectors=("fintech",), functions=("fundraising",),
                             languages=("en",))
    _b, farmer = make_mentor(db, make_user, name="Farmer", sectors=("agritech",), functions=("product",),
                             languages=("vi",))
    _founder, startup = make_startup(db, make_user)
    needs(db, startup, "fintech", ["fundraising", "legal_ip"], ["en"])
    with db.session_factory() as s:
        found = matching.suggestions(s, startup, utcnow())
    assert [f.mentor.id for f in found] == [banker, farmer]
    assert found[0].score == 30 + 15 + 20 + 10
    assert found[0].reasons == ["same sector: Fintech", "expertise in fundraising", "speaks English",
                                "free this week"]


def test_the_cohort_matching_keeps_capacities_and_conflicts_and_is_published_once(app, db, make_user):
    manager = make_user()
    banker_user, banker = make_mentor(db, make_user, name="Banker", capacity=1)
    make_mentor(db, make_user, name="Generalist", sectors=(), functions=(), capacity=5)
    startups = [make_startup(db, make_user, f"S{i}") for i in range(3)]
    for _founder, organisation_id in startups:
        needs(db, organisation_id, "fintech", ["fundraising"], ["en"])
    with db.transaction() as s:  # the banker co-founded S0
        s.add(OrganisationMember(organisation_id=startups[0][1], user_id=banker_user.id))
    ids = [organisation_id for _f, organisation_id in startups]
    with db.transaction() as s:
        result = matching.match(s, ids, 1, s.get(User, manager.id), utcnow())
    assert result.optimal and result.proposed == 3 and result.unmatched == 0
    with db.session_factory() as s:
        pairs = set(s.execute(select(MentorMatch.organisation_id, MentorMatch.mentor_id)).all())
    assert (ids[0], banker) not in pairs
    assert sum(1 for _o, m in pairs if m == banker) == 1  # capacity 1
    assert {o for o, _m in pairs} == set(ids)
    with db.transaction() as s:
        assert matching.publish(s, s.get(User, manager.id), utcnow()) == 3
    with db.transaction() as s:
        assert matching.publish(s, s.get(User, manager.id), utcnow()) == 0
    with db.session_factory() as s:
        assert set(s.scalars(select(MentorMatch.status))) == {MatchStatus.PUBLISHED}
        mails = s.scalars(select(OutboxMessage.to_address).where(
            OutboxMessage.idempotency_key.like("mentor-match:%"))).all()
    # each match's mentor, and each member of its startup (S0 has two: its founder and the banker)
    assert len(mails) == 3 + 4
    with db.transaction() as s, pytest.raises(Invalid):
        matching.match(s, ids, 9, s.get(User, manager.id), utcnow())


def test_startups_with_the_same_needs_each_get_distinct_mentors(app, db, make_user):
    """Alike startups are one row of the problem; its mentors are dealt out so that no startup gets one twice, and
    one already matched to a mentor is matched again only to others."""
    manager = make_user()
    mentors = [make_mentor(db, make_user, name=f"M{i}", capacity=2)[1] for i in range(3)]
    startups = [make_startup(db, make_user, f"S{i}")[1] for i in range(3)]
    for organisation_id in startups:
        needs(db, organisation_id, "fintech", ["fundraising"], ["en"])
    with db.transaction() as s:  # S2 already has M0, published
        s.add(MentorMatch(mentor_id=mentors[0], organisation_id=startups[2], status=MatchStatus.PUBLISHED,
                          score=75, reasons=[], created_by_id=manager.id, created_at=utcnow()))
    with db.transaction() as s:
        result = matching.match(s, startups, 2, s.get(User, manager.id), utcnow())
    with db.session_factory() as s:
        proposed = s.execute(select(MentorMatch.organisation_id, MentorMatch.mentor_id).where(
            MentorMatch.status == MatchStatus.PROPOSED)).all()
    by_startup = {o: sorted(m for o2, m in proposed if o2 == o) for o in startups}
    # five places left (M0 gave one to S2); S0 and S1 want two each, S2 one more: all five are used
    assert result.proposed == len(proposed) == 5 and result.unmatched == 0
    assert all(len(set(found)) == len(found) for found in by_startup.values())
    assert [len(by_startup[o]) for o in startups] == [2, 2, 1]
    assert mentors[0] not in by_startup[startups[2]]
    assert sum(1 for _o, m in proposed if m == mentors[0]) == 1  # its capacity of 2 less the published match
