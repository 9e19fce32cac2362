"""Review: the optimal assignment with conflicts, caps and kept reviews; scores, calibration and disagreement;
decisions and letters sent once; cohorts and their monthly figures."""

from __future__ import annotations

import threading
from datetime import date, timedelta

import pytest
from flask_babel import force_locale
from sqlalchemy import func, select

from portal.accounts.models import OrganisationMember, User
from portal.db import utcnow
from portal.errors import Conflict, Invalid
from portal.incubation import cohorts, decisions, review, scoring
from portal.incubation.models import (
    Application,
    Call,
    CallReviewer,
    CohortMember,
    ConflictReason,
    Criterion,
    Decision,
    KpiReport,
    Review,
    Stage,
)
from portal.notifications.models import OutboxMessage
from tests.support.incubation import make_call, reviewer_in_pool, submitted_application


@pytest.fixture(autouse=True)
def _request(app):
    with app.test_request_context(), force_locale("en"):
        yield


def assign(db, call_id: int, manager: User) -> review.AssignmentResult:
    with db.transaction() as s:
        return review.assign(s, s.get(Call, call_id), s.get(User, manager.id), utcnow())


def assigned_pairs(db) -> set[tuple[int, int]]:
    with db.session_factory() as s:
        return set(s.execute(select(Review.application_id, Review.call_reviewer_id)).all())


def test_every_application_gets_k_reviewers_within_caps_without_conflicts_best_match_first(
        app, db, make_user, tmp_path):
    call_id = make_call(db, k=2, reviewer_cap=3)
    manager = make_user()
    apps = [submitted_application(app, db, make_user, call_id, f"Startup {i}", tmp_path,
                                  sector="agritech" if i < 2 else "fintech") for i in range(4)]
    farmer, farmer_id = reviewer_in_pool(app, db, make_user, call_id, {"agritech": 5}, name="Farmer")
    banker, banker_id = reviewer_in_pool(app, db, make_user, call_id, {"fintech": 5}, name="Banker")
    _generalist, generalist_id = reviewer_in_pool(app, db, make_user, call_id, {}, cap=2, name="Generalist")
    # the banker co-founded startup 3: a conflict without their saying so
    with db.transaction() as s:
        s.add(OrganisationMember(organisation_id=apps[3][1], user_id=banker.id))
    # and the farmer knows a founder of startup 0
    with db.transaction() as s:
        review.declare_conflict(s, s.get(CallReviewer, farmer_id), apps[0][1], ConflictReason.KNOWS_FOUNDER)
    result = assign(db, call_id, manager)
    pairs = assigned_pairs(db)
    assert result.optimal and result.assigned == 8
    for application_id, _org, _users in apps:
        assert len({r for a, r in pairs if a == application_id}) == 2
    for reviewer_id, cap in ((farmer_id, 3), (banker_id, 3), (generalist_id, 2)):
        assert len([1 for _a, r in pairs if r == reviewer_id]) <= cap
    assert (apps[0][0], farmer_id) not in pairs and (apps[3][0], banker_id) not in pairs
    # experts where they can: farmer on startup 1, banker on startup 2; 20 points per expertise level
    assert {(apps[1][0], farmer_id), (apps[2][0], banker_id)} <= pairs
    assert result.objective == 200


def test_an_impossible_assignment_says_how_many_reviews_are_missing_and_assigns_nothing(
        app, db, make_user, tmp_path):
    call_id = make_call(db, k=3, reviewer_cap=2)
    manager = make_user()
    for i in range(3):
        submitted_application(app, db, make_user, call_id, f"Startup {i}", tmp_path)
    for i in range(3):
        reviewer_in_pool(app, db, make_user, call_id, name=f"R{i}")
    with pytest.raises(review.AssignmentImpossible) as refused:
        assign(db, call_id, manager)
    assert "3 reviews are missing" in str(refused.value.message)
    assert assigned_pairs(db) == set()


def test_assigning_again_keeps_begun_reviews_and_a_managers_choice(app, db, make_user, tmp_path):
    call_id = make_call(db, k=1, reviewer_cap=5)
    manager = make_user()
    first, _org, _u = submitted_application(app, db, make_user, call_id, "First", tmp_path)
    second, _org, _u = submitted_application(app, db, make_user, call_id, "Second", tmp_path, sector="fintech")
    _a, a_id = reviewer_in_pool(app, db, make_user, call_id, {"agritech": 1}, name="A")
    _b, b_id = reviewer_in_pool(app, db, make_user, call_id, {"fintech": 1}, name="B")
    assign(db, call_id, manager)
    assert assigned_pairs(db) == {(first, a_id), (second, b_id)}
    with db.transaction() as s:
        begun = s.scalar(select(Review).where(Review.application_id == first))
        begun.started_at = utcnow()
        s.get(CallReviewer, a_id).expertise = {"fintech": 5}
        s.get(CallReviewer, b_id).expertise = {"agritech": 5}
    result = assign(db, call_id, manager)
    # the begun review stays although B is now the better match for the first startup
    assert assigned_pairs(db) == {(first, a_id), (second, a_id)}
    assert result.kept == 1


def test_a_reviewer_sees_only_their_own_reviews_and_never_a_conflicted_startup(app, db, make_user, tmp_path):
    call_id = make_call(db, k=1)
    manager = make_user()
    application_id, organisation_id, _users = submitted_application(app, db, make_user, call_id, "Only", tmp_path)
    reviewer, reviewer_id = reviewer_in_pool(app, db, make_user, call_id, name="Mine")
    other, _other_id = reviewer_in_pool(app, db, make_user, call_id, name="Not mine", cap=0)
    assign(db, call_id, manager)
    with db.session_factory() as s:
        mine = review.reviews_of(s, s.get(User, reviewer.id))
        assert [r.application_id for r in mine] == [application_id]
        assert review.reviews_of(s, s.get(User, other.id)) == []
        with pytest.raises(Exception) as hidden:
            review.own_review(s, s.get(User, other.id), mine[0].id)
        assert hidden.value.status_code == 404
    with db.transaction() as s:
        removed = review.declare_conflict(s, s.get(CallReviewer, reviewer_id), organisation_id,
                                          ConflictReason.OTHER)
    assert removed == 1
    with db.session_factory() as s:
        assert review.reviews_of(s, s.get(User, reviewer.id)) == []


def test_the_manager_cannot_assign_a_conflicted_reviewer_by_hand(app, db, make_user, tmp_path):
    call_id = make_call(db)
    manager = make_user()
    application_id, organisation_id, _users = submitted_application(app, db, make_user, call_id, "Only", tmp_path)
    _r, reviewer_id = reviewer_in_pool(app, db, make_user, call_id)
    with db.transaction() as s:
        review.declare_conflict(s, s.get(CallReviewer, reviewer_id), organisation_id, ConflictReason.OTHER)
    with db.transaction() as s, pytest.raises(Conflict, match="conflict of interest"):
        review.assign_by_hand(s, s.get(Application, application_id), s.get(CallReviewer, reviewer_id),
                              s.get(User, manager.id), utcnow())


# --- scores -----------------------------------------------------------------------------------------------------

def score(db, review_id: int, values: dict[str, str], submit: bool = True) -> None:
    with db.transaction() as s:
        found = s.get(Review, review_id)
        criteria = list(s.scalars(select(Criterion).where(Criterion.call_id == found.application.call_id)))
        scoring.save_review(s, found, criteria, values, "Good team.", "Check the revenue.", submit, utcnow())


def everything(value: int) -> dict[str, str]:
    return {key: str(value) for key in ("team", "innovation", "market", "business_model", "traction", "impact")}


def test_scores_outside_the_scale_are_refused_naming_the_criterion_and_saving_nothing(app, db, make_user, tmp_path):
    call_id = make_call(db, k=1)
    submitted_application(app, db, make_user, call_id, "Only", tmp_path)
    reviewer_in_pool(app, db, make_user, call_id)
    assign(db, call_id, make_user())
    with db.session_factory() as s:
        review_id = s.scalar(select(Review.id))
    for bad in ("11", "0", "-1", "7.5", "seven"):
        with pytest.raises(Invalid) as refused:
            score(db, review_id, {**everything(5), "market": bad})
        assert refused.value.field == "market"
    with pytest.raises(Invalid, match="every criterion"):
        score(db, review_id, {"team": "5"})
    score(db, review_id, {"team": "5"}, submit=False)  # a draft may be partial
    with db.session_factory() as s:
        found = s.get(Review, review_id)
        assert (len(found.scores), found.submitted_at, found.started_at is not None) == (1, None, True)
    score(db, review_id, everything(7))
    with pytest.raises(Conflict):
        score(db, review_id, everything(8))


def test_the_ranking_weighs_scores_calibrates_reviewers_and_flags_disagreement(app, db, make_user, tmp_path):
    call_id = make_call(db, k=2, reviewer_cap=10)
    first, _o, _u = submitted_application(app, db, make_user, call_id, "Alpha", tmp_path)
    second, _o, _u = submitted_application(app, db, make_user, call_id, "Beta", tmp_path)
    _harsh, harsh_id = reviewer_in_pool(app, db, make_user, call_id, name="Harsh")
    _kind, kind_id = reviewer_in_pool(app, db, make_user, call_id, name="Kind")
    assign(db, call_id, make_user())
    with db.session_factory() as s:
        ids = {(r.application_id, r.call_reviewer_id): r.id for r in s.scalars(select(Review))}
    score(db, ids[first, harsh_id], everything(4))
    score(db, ids[second, harsh_id], everything(2))
    score(db, ids[first, kind_id], everything(10))
    score(db, ids[second, kind_id], everything(9))
    with db.session_factory() as s:
        ranked = scoring.ranking(s, s.get(Call, call_id))
    alpha, beta = ranked.rows
    assert alpha.application_id == first
    assert alpha.scores == pytest.approx([40.0, 100.0]) and alpha.mean == pytest.approx(70.0)
    assert alpha.median == pytest.approx(70.0)
    assert alpha.calibrated == pytest.approx(1.0) and beta.calibrated == pytest.approx(-1.0)
    assert alpha.disagreement and beta.disagreement  # 60 and 70 points apart
    assert {(p.reviewer.id, p.assigned, p.submitted) for p in ranked.reviewers} == {(harsh_id, 2, 2), (kind_id, 2, 2)}


# --- decisions and letters --------------------------------------------------------------------------------------

def test_letters_are_sent_once_to_every_member_in_their_language(app, db, make_user, tmp_path):
    call_id = make_call(db)
    manager = make_user()
    accepted, _org, members = submitted_application(app, db, make_user, call_id, "Alpha", tmp_path)
    rejected, _org, _m = submitted_application(app, db, make_user, call_id, "Beta", tmp_path)
    with db.transaction() as s:
        decisions.decide(s, s.get(Application, accepted), Decision.ACCEPT, "Strong team.", s.get(User, manager.id),
                         utcnow())
        decisions.decide(s, s.get(Application, rejected), Decision.REJECT, "", s.get(User, manager.id), utcnow())

    def send() -> int:
        with db.transaction() as s:
            return decisions.send_letters(s, s.get(Call, call_id), s.get(User, manager.id), utcnow())

    assert send() == 2
    assert send() == 0
    with db.session_factory() as s:
        letters = s.scalars(select(OutboxMessage).where(OutboxMessage.idempotency_key.like("decision-letter:%"))).all()
        assert len(letters) == 2
        letter = next(m for m in letters if m.to_address == members[0].email)
        assert letter.subject == "Hồ sơ của bạn vào Ươm tạo thử nghiệm đã được chấp nhận"  # the members read Vietnamese
        assert "Strong team." in letter.body_text
        with pytest.raises(Conflict, match="letter has been sent"):
            decisions.decide(s, s.get(Application, accepted), Decision.REJECT, "", s.get(User, manager.id), utcnow())


def test_two_managers_sending_letters_at_once_send_each_letter_once(app, db, make_user, tmp_path):
    if db.is_sqlite:
        pytest.skip("SQLite serialises writers; the race needs PostgreSQL's row locks")
    call_id = make_call(db)
    manager = make_user()
    for i in range(5):
        application_id, _org, _m = submitted_application(app, db, make_user, call_id, f"Startup {i}", tmp_path)
        with db.transaction() as s:
            decisions.decide(s, s.get(Application, application_id), Decision.ACCEPT, "", s.get(User, manager.id),
                             utcnow())
    barrier, counts = threading.Barrier(2), []

    def send():
        with app.test_request_context():
            barrier.wait()
            with db.transaction() as s:
                counts.append(decisions.send_letters(s, s.get(Call, call_id), s.get(User, manager.id), utcnow()))

    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(counts) == [0, 5]
    with db.session_factory() as s:
        assert s.scalar(select(func.count()).select_from(OutboxMessage).where(
            OutboxMessage.idempotency_key.like("decision-letter:%"))) == 5


# --- cohorts ----------------------------------------------------------------------------------------------------

def test_a_cohort_gathers_the_accepted_and_marks_late_monthly_reports(app, db, make_user, tmp_path):
    call_id = make_call(db)
    manager = make_user()
    accepted, _org, members = submitted_application(app, db, make_user, call_id, "Alpha", tmp_path)
    other, _org, _m = submitted_application(app, db, make_user, call_id, "Beta", tmp_path)
    with db.transaction() as s:
        decisions.decide(s, s.get(Application, accepted), Decision.ACCEPT, "", s.get(User, manager.id), utcnow())
        decisions.decide(s, s.get(Application, other), Decision.WAITLIST, "", s.get(User, manager.id), utcnow())
    today = utcnow().date()
    with db.transaction() as s:
        cohort = cohorts.form_cohort(s, s.get(Call, call_id), "Khóa 1", today - timedelta(days=100),
                                     today + timedelta(days=200), s.get(User, manager.id))
        cohort_id = cohort.id
    with db.session_factory() as s:
        member = s.scalar(select(CohortMember).where(CohortMember.cohort_id == cohort_id))
        assert s.scalar(select(func.count()).select_from(CohortMember)) == 1
        statuses = cohorts.member_statuses(s, member.cohort, date(today.year, today.month, 20))
        assert statuses[0].late
    last_month = cohorts.previous_month(today)
    with db.transaction() as s:
        member = s.scalar(select(CohortMember))
        with pytest.raises(Invalid, match="ended month"):
            cohorts.report(s, member, today.replace(day=1), {"revenue_vnd": 1}, s.get(User, members[0].id), utcnow())
        with pytest.raises(Invalid, match="at least 0"):
            cohorts.report(s, member, last_month, {"revenue_vnd": -5}, s.get(User, members[0].id), utcnow())
        cohorts.report(s, member, last_month, {"revenue_vnd": 2_500_000_000, "employees": 12},
                       s.get(User, members[0].id), utcnow())
    with db.transaction() as s:  # a correction replaces the month's figures
        cohorts.report(s, s.scalar(select(CohortMember)), last_month, {"revenue_vnd": 2_600_000_000, "employees": 12},
                       s.get(User, members[0].id), utcnow())
    with db.session_factory() as s:
        assert s.scalar(select(func.count()).select_from(KpiReport)) == 1
        statuses = cohorts.member_statuses(s, s.scalar(select(CohortMember)).cohort, date(today.year, today.month, 20))
        assert not statuses[0].late
        assert cohorts.totals_by_period(s) == [{"period": last_month, "revenue_vnd": 2_600_000_000, "employees": 12,
                                               "funding_vnd": 0, "ip_filed": 0, "products_launched": 0}]


def test_moving_applications_in_bulk_is_audited_one_by_one(app, db, make_user, tmp_path):
    from portal.audit.models import AuditEntry

    call_id = make_call(db)
    manager = make_user()
    ids = [submitted_application(app, db, make_user, call_id, f"S{i}", tmp_path, stage=Stage.ELIGIBILITY)[0]
           for i in range(3)]
    with db.transaction() as s:
        moved = review.move(s, s.get(Call, call_id), ids[:2], Stage.DOSSIER, s.get(User, manager.id))
    assert moved == 2
    with db.session_factory() as s:
        stages = dict(s.execute(select(Application.id, Application.stage)).all())
        audited = s.scalars(select(AuditEntry.object_id).where(AuditEntry.action == "application.stage")).all()
    assert [stages[i] for i in ids] == [Stage.DOSSIER, Stage.DOSSIER, Stage.ELIGIBILITY]
    assert sorted(audited) == sorted(str(i) for i in ids[:2])
