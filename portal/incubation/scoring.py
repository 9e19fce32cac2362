"""Scores against the call's weighted rubric, and what the committee reads from them: the weighted mean and median
of each application, scores normalised per reviewer (z-scores, so a harsh and a generous reviewer count alike),
where reviewers disagree, and each reviewer's progress."""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import Float, cast, func, select
from sqlalchemy.orm import Session, selectinload

from portal.accounts.models import Organisation
from portal.errors import Conflict, Invalid
from portal.incubation.models import (
    Application,
    ApplicationStatus,
    Call,
    CallReviewer,
    Criterion,
    Decision,
    Review,
    Score,
    Stage,
)

#: reviewers whose weighted scores (0–100) of one application are this far apart disagree strongly
DISAGREEMENT_SPREAD = 30


def weighted_score(values: dict[int, int], criteria: list[Criterion]) -> float | None:
    """A review's score out of 100: each criterion's share of its scale, times its weight. None until complete."""
    if not criteria or any(c.id not in values for c in criteria):
        return None
    total_weight = sum(c.weight for c in criteria)
    return sum(c.weight * values[c.id] / c.scale_max for c in criteria) * 100 / total_weight


def save_review(session: Session, review: Review, criteria: list[Criterion], raw_scores: dict[str, str],
                comment_for_startup: str, comment_for_committee: str, submit: bool, now: datetime) -> None:
    """Keeps what the reviewer gave so far; submitting needs a score for every criterion. Scores outside a
    criterion's scale are refused, naming the criterion, and nothing is saved."""
    if review.submitted_at is not None:
        raise Conflict(_l("This review is submitted and can no longer be changed."))
    values: dict[int, int] = {}
    for criterion in criteria:
        raw = str(raw_scores.get(criterion.key, "")).strip()
        if not raw:
            if submit:
                raise Invalid(_l("Please score every criterion before submitting."), criterion.key)
            continue
        if not raw.isdigit() or not 1 <= int(raw) <= criterion.scale_max:
            raise Invalid(_l("A score is a whole number from 1 to %(max)d.", max=criterion.scale_max),
                          criterion.key)
        values[criterion.id] = int(raw)
    existing = {score.criterion_id: score for score in review.scores}
    for criterion_id, value in values.items():
        if criterion_id in existing:
            existing[criterion_id].value = value
        else:
            review.scores.append(Score(criterion_id=criterion_id, value=value))
    review.comment_for_startup = comment_for_startup.strip()[:5000]
    review.comment_for_committee = comment_for_committee.strip()[:5000]
    review.started_at = review.started_at or now
    if submit:
        review.submitted_at = now


@dataclass
class RankedApplication:
    application_id: int
    name: str
    stage: Stage | None
    decision: Decision | None
    assigned: int = 0
    submitted: int = 0
    scores: list[float] = field(default_factory=list)  # weighted, one per submitted review
    z_scores: list[float] = field(default_factory=list)

    @property
    def mean(self) -> float | None:
        return statistics.fmean(self.scores) if self.scores else None

    @property
    def median(self) -> float | None:
        return statistics.median(self.scores) if self.scores else None

    @property
    def calibrated(self) -> float | None:
        """The mean of the reviewers' z-scores: above 0, better than these reviewers' average."""
        return statistics.fmean(self.z_scores) if self.z_scores else None

    @property
    def spread(self) -> float:
        return max(self.scores) - min(self.scores) if len(self.scores) > 1 else 0.0

    @property
    def disagreement(self) -> bool:
        return self.spread >= DISAGREEMENT_SPREAD


@dataclass
class ReviewerProgress:
    reviewer: CallReviewer
    assigned: int
    submitted: int


@dataclass
class Ranking:
    rows: list[RankedApplication]
    reviewers: list[ReviewerProgress]


SORTS = {
    "mean": lambda r: (r.mean is None, -(r.mean or 0)),
    "median": lambda r: (r.median is None, -(r.median or 0)),
    "calibrated": lambda r: (r.calibrated is None, -(r.calibrated or 0)),
    "spread": lambda r: -r.spread,
    "name": lambda r: r.name.lower(),
}


def ranking(session: Session, call: Call, sort: str = "calibrated") -> Ranking:
    """Every submitted application of the call with its figures, and each reviewer's progress, in five queries
    whatever the number of applications and reviews. Rows are read as plain tuples: thousands of reviews and their
    scores as ORM objects cost seconds."""
    criteria = list(session.scalars(select(Criterion).where(Criterion.call_id == call.id)
                                    .order_by(Criterion.position)))
    of_call = Application.call_id == call.id
    rows = {application_id: RankedApplication(application_id, name, stage, decision)
            for application_id, name, stage, decision in session.execute(
                select(Application.id, Organisation.name, Application.stage, Application.decision)
                .join(Organisation, Organisation.id == Application.organisation_id)
                .where(of_call, Application.status == ApplicationStatus.SUBMITTED).order_by(Application.id))}
    reviewers = list(session.scalars(select(CallReviewer).where(CallReviewer.call_id == call.id)
                                     .options(selectinload(CallReviewer.user)).order_by(CallReviewer.id)))
    progress = {r.id: ReviewerProgress(r, 0, 0) for r in reviewers}
    total_weight = sum(c.weight for c in criteria)
    by_reviewer: dict[int, list[tuple[int, float]]] = defaultdict(list)
    # each review's weighted sum is added up by the database: thousands of score rows never reach Python
    weighted_sum = func.sum(cast(Score.value, Float) * Criterion.weight / Criterion.scale_max)
    for application_id, reviewer_id, submitted_at, points, scored in session.execute(
            select(Review.application_id, Review.call_reviewer_id, Review.submitted_at, weighted_sum,
                   func.count(Score.id))
            .join(Application, Application.id == Review.application_id)
            .outerjoin(Score, Score.review_id == Review.id).outerjoin(Criterion, Criterion.id == Score.criterion_id)
            .where(of_call).group_by(Review.id, Review.application_id, Review.call_reviewer_id, Review.submitted_at)):
        row = rows.get(application_id)
        if row is None:
            continue
        row.assigned += 1
        progress[reviewer_id].assigned += 1
        if submitted_at is None or not criteria or scored < len(criteria):
            continue
        score = points * 100 / total_weight
        row.submitted += 1
        progress[reviewer_id].submitted += 1
        row.scores.append(score)
        by_reviewer[reviewer_id].append((application_id, score))
    for scored in by_reviewer.values():
        scores = [s for _a, s in scored]
        mean = statistics.fmean(scores)
        deviation = statistics.pstdev(scores) if len(scores) > 1 else 0.0
        for application_id, score in scored:
            rows[application_id].z_scores.append((score - mean) / deviation if deviation else 0.0)
    ordered = sorted(rows.values(), key=SORTS.get(sort, SORTS["calibrated"]))
    return Ranking(rows=ordered, reviewers=list(progress.values()))
