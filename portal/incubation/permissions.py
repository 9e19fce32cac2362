"""Who may read an application: the startup's members, the incubator's managers and admins, and reviewers assigned
to it who have no conflict with the startup. Nobody else learns that it exists."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.accounts.models import Role, User
from portal.incubation.applications import is_member
from portal.incubation.models import Application, CallReviewer, Review
from portal.incubation.review import conflicted_organisations_of

MANAGING_ROLES = (Role.INCUBATOR_MANAGER, Role.ADMIN)


def is_manager(user: User) -> bool:
    return any(user.has_role(role) for role in MANAGING_ROLES)


def may_read_application(session: Session, user: User, application: Application) -> bool:
    if is_manager(user) or is_member(session, user, application.organisation_id):
        return True
    reviewer = session.scalar(select(CallReviewer).join(Review, Review.call_reviewer_id == CallReviewer.id).where(
        Review.application_id == application.id, CallReviewer.user_id == user.id))
    return reviewer is not None and application.organisation_id not in conflicted_organisations_of(session, reviewer)
