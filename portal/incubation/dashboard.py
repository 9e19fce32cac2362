"""The programme dashboard: the figures the city reports, from calls to cohorts, in a fixed number of queries."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from portal.incubation.cohorts import KPI_FIELDS, totals_by_period
from portal.incubation.models import (
    Application,
    ApplicationStatus,
    Call,
    CallReviewer,
    Decision,
    Review,
    Stage,
)
from portal.sectors import sector_labels


@dataclass
class CallFigures:
    call: Call
    by_stage: dict[Stage, int]
    submitted: int
    accepted: int
    decided: int
    reviews_assigned: int
    reviews_submitted: int

    @property
    def acceptance_rate(self) -> float | None:
        """Accepted among decided applications, as a share (None before any decision)."""
        return self.accepted / self.decided if self.decided else None


def figures(session: Session) -> dict:
    calls = list(session.scalars(select(Call).options(selectinload(Call.programme)).order_by(Call.opens_at)))
    per_call = {c.id: CallFigures(c, {}, 0, 0, 0, 0, 0) for c in calls}
    submitted = Application.status == ApplicationStatus.SUBMITTED
    for call_id, stage, count in session.execute(select(Application.call_id, Application.stage, func.count())
                                                 .where(submitted).group_by(Application.call_id, Application.stage)):
        per_call[call_id].by_stage[stage] = count
        per_call[call_id].submitted += count
    for call_id, decision, count in session.execute(
            select(Application.call_id, Application.decision, func.count())
            .where(submitted, Application.decision.is_not(None)).group_by(Application.call_id, Application.decision)):
        per_call[call_id].decided += count
        if decision == Decision.ACCEPT:
            per_call[call_id].accepted += count
    for call_id, assigned, done in session.execute(
            select(CallReviewer.call_id, func.count(Review.id), func.count(Review.submitted_at))
            .join(Review, Review.call_reviewer_id == CallReviewer.id).group_by(CallReviewer.call_id)):
        per_call[call_id].reviews_assigned, per_call[call_id].reviews_submitted = assigned, done
    labels = sector_labels()
    sectors = defaultdict(int)
    for sector, count in session.execute(select(Application.sector, func.count()).where(submitted)
                                         .group_by(Application.sector)):
        sectors[labels.get(sector, sector) if sector else "—"] += count
    return {
        "calls": list(per_call.values()),
        "sectors": sorted(sectors.items(), key=lambda item: -item[1]),
        "kpis": totals_by_period(session),
        "kpi_fields": KPI_FIELDS,
        "totals": {
            "submitted": sum(f.submitted for f in per_call.values()),
            "accepted": sum(f.accepted for f in per_call.values()),
            "decided": sum(f.decided for f in per_call.values()),
            "by_stage": {stage: sum(f.by_stage.get(stage, 0) for f in per_call.values()) for stage in Stage},
        },
    }
