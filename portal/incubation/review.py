"""The review pipeline: stages, the reviewer pool, conflicts of interest, and the optimal automatic assignment.

A reviewer is never assigned to, and never sees, an application of an organisation they declared a conflict with
or belong to. The assignment gives every application in dossier review k reviewers, no reviewer more than their
cap, and the greatest total expertise match (portal/matching.py: min-cost flow, proved optimal). Reviews already
started, and assignments a manager made by hand, are kept; the rest is assigned again.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import numpy as np
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session, selectinload

from portal.accounts.models import Organisation, OrganisationMember, User
from portal.audit.services import record
from portal.errors import Conflict, Invalid, NotFound, PermissionDenied
from portal.incubation.models import (
    Application,
    ApplicationStatus,
    Call,
    CallReviewer,
    ConflictReason,
    Review,
    ReviewerConflict,
    Stage,
)
from portal.matching import Problem, solve
from portal.notifications.services import absolute_url, queue_mail

#: the order applications go through; a manager may move one to any stage, forwards or back
STAGES = (Stage.ELIGIBILITY, Stage.DOSSIER, Stage.CALIBRATION, Stage.PITCH, Stage.COUNCIL, Stage.DECIDED)
#: the stage whose applications the automatic assignment serves
REVIEWED_STAGE = Stage.DOSSIER
#: expertise level (1–5) to affinity (1–100)
AFFINITY_PER_LEVEL = 20


class AssignmentImpossible(Conflict):
    """Too few reviewers (or too much conflict) for k reviewers each within the caps: nothing is assigned."""


class ConflictOfInterest(PermissionDenied):
    default_message = _l("You have declared a conflict of interest with this startup, so its application is closed "
                         "to you.")


# --- stages ---------------------------------------------------------------------------------------------------

def move(session: Session, call: Call, application_ids: Iterable[int], stage: Stage, actor: User) -> int:
    """Moves submitted applications of the call to `stage`, each move audited; returns how many moved."""
    if stage == Stage.DECIDED:
        raise Invalid(_l("An application reaches the decided stage when a decision is recorded for it."), "stage")
    applications = session.scalars(select(Application).where(
        Application.call_id == call.id, Application.id.in_(list(application_ids)),
        Application.status == ApplicationStatus.SUBMITTED, Application.decision.is_(None),
    ).with_for_update())
    moved = 0
    for application in applications:
        if application.stage == stage:
            continue
        record(session, "application.stage", actor_id=actor.id, object_type="application",
               object_id=application.id, before=str(application.stage), after=str(stage))
        application.stage = stage
        moved += 1
    return moved


# --- the pool -------------------------------------------------------------------------------------------------

def invite(session: Session, call: Call, user: User, actor: User, expertise: dict[str, int],
           cap: int | None, now: datetime) -> CallReviewer:
    """Asks a person holding the reviewer role to review for the call; they join the pool when they accept."""
    reviewer = session.scalar(select(CallReviewer).where(CallReviewer.call_id == call.id,
                                                         CallReviewer.user_id == user.id))
    if reviewer is None:
        reviewer = CallReviewer(call_id=call.id, user_id=user.id, invited_at=now)
        session.add(reviewer)
    reviewer.expertise = {str(k): int(v) for k, v in expertise.items() if 1 <= int(v) <= 5}
    reviewer.cap = cap
    session.flush()
    record(session, "call.reviewer_invited", actor_id=actor.id, object_type="call", object_id=call.id,
           reviewer=user.id)
    if reviewer.accepted_at is None:
        queue_mail(session, key=f"reviewer-invitation:{reviewer.id}", to=user.email, locale=user.locale,
                   template="reviewer_invitation",
                   subject=_l("Will you review applications to %(call)s?",
                              call=call.title_vi if user.locale == "vi" else call.title_en),
                   name=user.full_name, call=call, link=absolute_url("reviewing.home"))
    return reviewer


def accept_invitation(session: Session, reviewer: CallReviewer, user: User, now: datetime) -> None:
    if reviewer.user_id != user.id:
        raise NotFound()
    if reviewer.accepted_at is None:
        reviewer.accepted_at = now
        _declare_memberships(session, reviewer)


def _declare_memberships(session: Session, reviewer: CallReviewer) -> None:
    """A reviewer's own organisations are conflicts without their saying so."""
    own = session.scalars(select(OrganisationMember.organisation_id)
                          .where(OrganisationMember.user_id == reviewer.user_id))
    for organisation_id in own:
        _add_conflict(session, reviewer, organisation_id, ConflictReason.OWN_ORGANISATION)


def declare_conflict(session: Session, reviewer: CallReviewer, organisation_id: int, reason: ConflictReason) -> int:
    """Records the conflict and takes the reviewer off that organisation's application (even a review begun:
    a conflict outweighs the work); returns how many reviews were removed."""
    if session.get(Organisation, organisation_id) is None:
        raise NotFound()
    _add_conflict(session, reviewer, organisation_id, reason)
    applications = select(Application.id).where(Application.call_id == reviewer.call_id,
                                                Application.organisation_id == organisation_id)
    removed = session.execute(delete(Review).where(Review.call_reviewer_id == reviewer.id,
                                                   Review.application_id.in_(applications)))
    return removed.rowcount or 0


def _add_conflict(session: Session, reviewer: CallReviewer, organisation_id: int, reason: ConflictReason) -> None:
    exists = session.scalar(select(ReviewerConflict.id).where(
        ReviewerConflict.call_reviewer_id == reviewer.id, ReviewerConflict.organisation_id == organisation_id))
    if exists is None:
        session.add(ReviewerConflict(call_reviewer_id=reviewer.id, organisation_id=organisation_id, reason=reason))
        session.flush()


def conflicted_organisations(session: Session, call: Call) -> dict[int, set[int]]:
    """call reviewer id → the organisations they may not review: declared conflicts and their own organisations
    (looked up now too, so joining a startup after accepting counts at once)."""
    conflicts: dict[int, set[int]] = defaultdict(set)
    declared = session.execute(select(ReviewerConflict.call_reviewer_id, ReviewerConflict.organisation_id)
                               .join(CallReviewer).where(CallReviewer.call_id == call.id))
    for reviewer_id, organisation_id in declared:
        conflicts[reviewer_id].add(organisation_id)
    memberships = session.execute(select(CallReviewer.id, OrganisationMember.organisation_id)
                                  .join(OrganisationMember, OrganisationMember.user_id == CallReviewer.user_id)
                                  .where(CallReviewer.call_id == call.id))
    for reviewer_id, organisation_id in memberships:
        conflicts[reviewer_id].add(organisation_id)
    return conflicts


def is_conflicted(session: Session, reviewer: CallReviewer, organisation_id: int) -> bool:
    return organisation_id in conflicted_organisations_of(session, reviewer)


def conflicted_organisations_of(session: Session, reviewer: CallReviewer) -> set[int]:
    declared = session.scalars(select(ReviewerConflict.organisation_id)
                               .where(ReviewerConflict.call_reviewer_id == reviewer.id))
    own = session.scalars(select(OrganisationMember.organisation_id)
                          .where(OrganisationMember.user_id == reviewer.user_id))
    return set(declared) | set(own)


# --- assignment -----------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class AssignmentResult:
    assigned: int  # reviews created now
    kept: int  # reviews kept: begun, or assigned by hand
    applications: int
    reviewers: int
    objective: int  # total expertise match of the new reviews
    optimal: bool
    solve_seconds: float


def pool(session: Session, call: Call) -> list[CallReviewer]:
    """The reviewers who accepted, in a stable order."""
    return list(session.scalars(select(CallReviewer).where(
        CallReviewer.call_id == call.id, CallReviewer.accepted_at.is_not(None)).order_by(CallReviewer.id)))


def assign(session: Session, call: Call, actor: User, now: datetime) -> AssignmentResult:
    """Gives every application in dossier review `call.reviewers_per_application` reviewers, optimally."""
    applications = list(session.execute(select(Application.id, Application.organisation_id, Application.sector).where(
        Application.call_id == call.id, Application.status == ApplicationStatus.SUBMITTED,
        Application.stage == REVIEWED_STAGE).order_by(Application.id)))
    reviewers = pool(session, call)
    if not applications:
        raise AssignmentImpossible(_l("No application is in dossier review, so there is nothing to assign."))
    if not reviewers:
        raise AssignmentImpossible(_l("No reviewer has accepted an invitation to this call yet."))
    row = {application_id: i for i, (application_id, _org, _sector) in enumerate(applications)}
    column = {reviewer.id: j for j, reviewer in enumerate(reviewers)}

    # unstarted automatic reviews are assigned again; begun ones and a manager's choices stay
    session.execute(delete(Review).where(
        Review.application_id.in_(list(row)), Review.automatic.is_(True), Review.started_at.is_(None)))
    kept = session.execute(select(Review.application_id, Review.call_reviewer_id).join(Application).where(
        Application.call_id == call.id)).all()

    k = call.reviewers_per_application
    need = np.full(len(applications), k, dtype=np.int64)
    capacity = np.array([call.reviewer_cap if r.cap is None else r.cap for r in reviewers], dtype=np.int64)
    allowed = np.ones((len(applications), len(reviewers)), dtype=bool)
    for application_id, reviewer_id in kept:
        if reviewer_id in column:
            capacity[column[reviewer_id]] -= 1
            if application_id in row:
                need[row[application_id]] -= 1
                allowed[row[application_id], column[reviewer_id]] = False
    conflicts = conflicted_organisations(session, call)
    organisations = np.array([org for _id, org, _sector in applications])
    for reviewer in reviewers:
        if conflicts.get(reviewer.id):
            allowed[np.isin(organisations, list(conflicts[reviewer.id])), column[reviewer.id]] = False
    problem = Problem.build(need=np.maximum(need, 0), capacity=np.maximum(capacity, 0),
                            weight=_affinity([sector for _id, _org, sector in applications], reviewers),
                            allowed=allowed)
    solution = solve(problem)
    if not solution.feasible:
        raise AssignmentImpossible(_shortfall_message(solution.shortfall, len(solution.unfillable), k))
    application_ids = [a for a, _org, _sector in applications]
    if solution.pairs:
        session.execute(insert(Review), [
            {"application_id": application_ids[i], "call_reviewer_id": reviewers[j].id, "automatic": True,
             "assigned_at": now} for i, j in solution.pairs])
    record(session, "call.reviewers_assigned", actor_id=actor.id, object_type="call", object_id=call.id,
           assigned=len(solution.pairs), kept=len(kept), objective=solution.objective)
    _tell_reviewers(session, call, {reviewers[j] for _i, j in solution.pairs}, now)
    return AssignmentResult(
        assigned=len(solution.pairs), kept=len(kept), applications=len(applications), reviewers=len(reviewers),
        objective=solution.objective, optimal=solution.optimal, solve_seconds=solution.solve_seconds)


def _shortfall_message(shortfall: int, unfillable: int, k: int) -> str:
    message = ngettext("No assignment can give every application %(k)d reviewers within the caps: %(num)d review "
                       "is missing. Invite more reviewers or raise their caps; nothing was assigned.",
                       "No assignment can give every application %(k)d reviewers within the caps: %(num)d reviews "
                       "are missing. Invite more reviewers or raise their caps; nothing was assigned.",
                       shortfall, k=k)
    if unfillable:
        message += " " + ngettext("%(num)d application has fewer than %(k)d reviewers without a conflict.",
                                  "%(num)d applications have fewer than %(k)d reviewers without a conflict.",
                                  unfillable, k=k)
    return message


def _affinity(sectors: list[str | None], reviewers: list[CallReviewer]) -> np.ndarray:
    """Expertise match: the reviewer's level (1–5) in the application's sector, as 20–100; 0 elsewhere."""
    levels = {sector: np.array([r.expertise.get(sector, 0) for r in reviewers], dtype=np.int64) * AFFINITY_PER_LEVEL
              for sector in set(sectors) if sector}
    weight = np.zeros((len(sectors), len(reviewers)), dtype=np.int64)
    for i, sector in enumerate(sectors):
        if sector:
            weight[i] = levels[sector]
    return weight


def _tell_reviewers(session: Session, call: Call, reviewers: set[CallReviewer], now: datetime) -> None:
    users = {u.id: u for u in session.scalars(select(User).where(User.id.in_([r.user_id for r in reviewers])))}
    for reviewer in reviewers:
        user = users[reviewer.user_id]
        queue_mail(session, key=f"reviews-assigned:{reviewer.id}:{now.isoformat()}", to=user.email,
                   locale=user.locale, template="reviews_assigned",
                   subject=_l("Applications to review for %(call)s",
                              call=call.title_vi if user.locale == "vi" else call.title_en),
                   name=user.full_name, call=call, link=absolute_url("reviewing.home"))


def assign_by_hand(session: Session, application: Application, reviewer: CallReviewer, actor: User,
                   now: datetime) -> Review:
    if reviewer.call_id != application.call_id or reviewer.accepted_at is None:
        raise NotFound()
    if application.organisation_id in conflicted_organisations_of(session, reviewer):
        raise Conflict(_l("This reviewer has a conflict of interest with this startup."))
    review = session.scalar(select(Review).where(Review.application_id == application.id,
                                                 Review.call_reviewer_id == reviewer.id))
    if review is None:
        review = Review(application_id=application.id, call_reviewer_id=reviewer.id, automatic=False,
                        assigned_at=now)
        session.add(review)
    review.automatic = False  # a manager's choice: the assignment button keeps it
    record(session, "review.assigned", actor_id=actor.id, object_type="application", object_id=application.id,
           reviewer=reviewer.user_id)
    return review


def unassign(session: Session, review: Review, actor: User) -> None:
    if review.submitted_at is not None:
        raise Conflict(_l("This review is submitted; it stays part of the record."))
    record(session, "review.unassigned", actor_id=actor.id, object_type="application",
           object_id=review.application_id, reviewer=review.reviewer.user_id)
    session.delete(review)


# --- what a reviewer sees -------------------------------------------------------------------------------------

def reviews_of(session: Session, user: User) -> list[Review]:
    """A reviewer's own reviews, without conflicts, with what their list shows, in a bounded number of queries."""
    reviews = list(session.scalars(
        select(Review).join(CallReviewer).where(CallReviewer.user_id == user.id)
        .options(selectinload(Review.application).selectinload(Application.organisation),
                 selectinload(Review.application).selectinload(Application.call),
                 selectinload(Review.scores)).order_by(Review.assigned_at, Review.id)))
    conflicts = _conflicts_by_reviewer(session, {r.call_reviewer_id for r in reviews}, user)
    return [r for r in reviews if r.application.organisation_id not in conflicts.get(r.call_reviewer_id, set())]


def _conflicts_by_reviewer(session: Session, reviewer_ids: set[int], user: User) -> dict[int, set[int]]:
    own = set(session.scalars(select(OrganisationMember.organisation_id).where(OrganisationMember.user_id == user.id)))
    found = {reviewer_id: set(own) for reviewer_id in reviewer_ids}
    for reviewer_id, organisation_id in session.execute(select(
            ReviewerConflict.call_reviewer_id, ReviewerConflict.organisation_id).where(
            ReviewerConflict.call_reviewer_id.in_(reviewer_ids))):
        found[reviewer_id].add(organisation_id)
    return found


def own_review(session: Session, user: User, review_id: int) -> Review:
    """A review the user was assigned, of an application they have no conflict with; anything else is 403 (the
    reviewer knows the id exists in their list, or guessed it: neither learns anything)."""
    review = session.get(Review, review_id)
    if review is None or review.reviewer.user_id != user.id:
        raise NotFound()
    if review.application.organisation_id in conflicted_organisations_of(session, review.reviewer):
        raise ConflictOfInterest()
    return review


def invitations_of(session: Session, user: User) -> list[CallReviewer]:
    """The calls a person was asked to review for, answered or not."""
    return list(session.scalars(select(CallReviewer).where(CallReviewer.user_id == user.id)
                                .options(selectinload(CallReviewer.call)).order_by(CallReviewer.invited_at.desc())))
