"""The incubation demo: an open call with applications in every stage and reviewers with work to do, a closed call
with a cohort that reports (one startup late), and a second load that adds nothing."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import func, select

from portal.accounts.models import User
from portal.db import utcnow
from portal.demo import load_demo
from portal.incubation import cohorts, review, scoring
from portal.incubation.applications import is_open
from portal.incubation.models import Application, ApplicationStatus, Call, Cohort, Stage


def test_the_demo_gives_the_manager_and_the_reviewer_real_work_and_loads_once(app, db):
    assert load_demo(app)["incubation"] > 20
    assert load_demo(app)["incubation"] == 0
    with app.test_request_context(), db.session_factory() as s:
        call = s.scalar(select(Call).where(Call.slug == "uom-tao-2027-dot-1"))
        assert is_open(call, utcnow()) and call.criteria and call.sections
        stages = Counter(s.scalars(select(Application.stage).where(
            Application.call_id == call.id, Application.status == ApplicationStatus.SUBMITTED)))
        assert set(stages) == set(Stage) and sum(stages.values()) == 20
        assert s.scalar(select(func.count()).select_from(Application).where(
            Application.status == ApplicationStatus.DRAFT)) == 1  # the demo startup's, to finish
        reviewer = s.scalar(select(User).where(User.email == "reviewer@demo.dmst-hanoi.vn"))
        to_do = [r for r in review.reviews_of(s, reviewer) if r.submitted_at is None]
        assert to_do
        ranked = scoring.ranking(s, call)
        assert any(row.mean is not None for row in ranked.rows)
        assert {p.reviewer.user.email for p in ranked.reviewers} >= {"reviewer@demo.dmst-hanoi.vn"}
        cohort = s.scalar(select(Cohort))
        statuses = cohorts.member_statuses(s, cohort, utcnow().date().replace(day=20))
        assert len(statuses) == 4 and [st.late for st in statuses].count(True) == 1
        assert cohorts.totals_by_period(s)
