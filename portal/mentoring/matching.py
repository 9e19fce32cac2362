"""Which mentor for which startup: a score with its reasons in words, the weights set by managers, suggestions for
one startup, and the optimal matching of a whole cohort (portal/matching.py: each startup up to m mentors, no mentor
over capacity, conflicts excluded, total score maximised and proved optimal)."""

from __future__ import annotations

import enum
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
from flask_babel import lazy_gettext as _l
from sqlalchemy import Row, Select, delete, func, insert, select
from sqlalchemy.orm import Session, selectinload

from portal.accounts.models import Organisation, OrganisationMember, User
from portal.audit.services import record
from portal.errors import Conflict, Invalid
from portal.matching import Problem, solve
from portal.mentoring.models import (
    MatchingWeights,
    MatchStatus,
    MentoringSession,
    MentorMatch,
    MentorProfile,
    MentorStatus,
    StartupNeeds,
    WeeklyHours,
)
from portal.mentoring.taxonomy import FUNCTIONS, LANGUAGES
from portal.notifications.services import absolute_url, queue_mail
from portal.sectors import sector_labels

SUGGESTIONS = 5
#: the startups a matching is for: their ids, or a query that selects them
Startups = Sequence[int] | Select


#: the weights until a manager sets them
DEFAULT_WEIGHTS = MatchingWeights(sector=30, function=15, language=20, availability=10)


def current_weights(session: Session) -> MatchingWeights:
    """The weights managers set, or the default ones, without writing anything."""
    return session.scalar(select(MatchingWeights).order_by(MatchingWeights.id).limit(1)) or DEFAULT_WEIGHTS


def weights_of(session: Session) -> MatchingWeights:
    """The weights row, created with the default weights when a manager first saves them."""
    weights = session.scalar(select(MatchingWeights).order_by(MatchingWeights.id).limit(1))
    if weights is None:
        weights = MatchingWeights(sector=DEFAULT_WEIGHTS.sector, function=DEFAULT_WEIGHTS.function,
                                  language=DEFAULT_WEIGHTS.language, availability=DEFAULT_WEIGHTS.availability)
        session.add(weights)
        session.flush()
    return weights


def save_weights(session: Session, values: dict[str, int], actor: User) -> None:
    if any(not isinstance(v, int) or not 0 <= v <= 100 for v in values.values()):
        raise Invalid(_l("Each weight is a whole number from 0 to 100."))
    weights = weights_of(session)
    for name, value in values.items():
        setattr(weights, name, value)
    record(session, "mentoring.weights_saved", actor_id=actor.id, **values)


# --- scores as arrays -------------------------------------------------------------------------------------------

@dataclass
class Side:
    """One side of the matching as arrays: sector index (-1: none), function and language bit masks."""

    ids: list[int]
    sector: np.ndarray
    functions: np.ndarray
    languages: np.ndarray

    def take(self, rows: np.ndarray) -> Side:
        return Side(ids=[self.ids[i] for i in rows], sector=self.sector[rows], functions=self.functions[rows],
                    languages=self.languages[rows])


_FUNCTION_BITS = {key: 1 << i for i, key in enumerate(FUNCTIONS)}
_LANGUAGE_BITS = {key: 1 << i for i, key in enumerate(LANGUAGES)}
_POPCOUNT = np.array([bin(i).count("1") for i in range(1 << len(FUNCTIONS))], dtype=np.int64)


def _mask(keys, bits: dict[str, int]) -> int:
    return sum(bits.get(key, 0) for key in set(keys or []))


def _sector_index(sector: str | None, sectors: dict[str, int]) -> int:
    return sectors.get(sector, -1) if sector else -1


def side(ids: list[int], sectors: list[str | None], functions: list, languages: list,
         sector_index: dict[str, int]) -> Side:
    return Side(ids=ids, sector=np.array([_sector_index(s, sector_index) for s in sectors], dtype=np.int64),
                functions=np.array([_mask(f, _FUNCTION_BITS) for f in functions], dtype=np.int64),
                languages=np.array([_mask(lang, _LANGUAGE_BITS) for lang in languages], dtype=np.int64))


def scores(startups: Side, mentor_sectors: np.ndarray, mentors: Side, available: np.ndarray,
           weights: MatchingWeights) -> np.ndarray:
    """startup × mentor scores: the sector shared, each needed function the mentor covers, a language in common, and
    free time this week. `mentor_sectors` is mentors × sectors (a mentor knows several)."""
    sector_match = np.zeros((len(startups.ids), len(mentors.ids)), dtype=np.int64)
    known = startups.sector >= 0
    sector_match[known] = mentor_sectors[:, startups.sector[known]].T
    covered = _POPCOUNT[startups.functions[:, None] & mentors.functions[None, :]]
    speaks = (startups.languages[:, None] & mentors.languages[None, :]) != 0
    return (weights.sector * sector_match + weights.function * covered + weights.language * speaks
            + weights.availability * available[None, :].astype(np.int64))


def reasons(needs: StartupNeeds | None, mentor: MentorProfile, free_this_week: bool) -> list[str]:
    """Why this mentor suits this startup, in words."""
    found = []
    if needs is not None and needs.sector and needs.sector in mentor.sectors:
        found.append(str(_l("same sector: %(sector)s", sector=sector_labels().get(needs.sector, needs.sector))))
    for function in (needs.functions if needs else []):
        if function in mentor.functions:
            found.append(str(_l("expertise in %(function)s", function=str(FUNCTIONS[function]).lower())))
    shared = [LANGUAGES[code] for code in (needs.languages if needs else []) if code in mentor.languages]
    if shared:
        found.append(str(_l("speaks %(languages)s", languages=", ".join(shared))))
    if free_this_week:
        found.append(str(_l("free this week")))
    return found


#: mentors in the directory: approved and shown
_LISTED = (MentorProfile.status == MentorStatus.APPROVED, MentorProfile.visible.is_(True))


def _directory(session: Session) -> list[MentorProfile]:
    return list(session.scalars(select(MentorProfile).where(*_LISTED)
                                .options(selectinload(MentorProfile.user), selectinload(MentorProfile.weekly_hours))
                                .order_by(MentorProfile.id)))


def _directory_figures(session: Session) -> list[Row]:
    """The directory's mentors as the matching reads them: only the columns it scores, thousands at once."""
    has_hours = select(WeeklyHours.id).where(WeeklyHours.mentor_id == MentorProfile.id).exists()
    return list(session.execute(select(
        MentorProfile.id, MentorProfile.user_id, MentorProfile.mentee_capacity, MentorProfile.sectors,
        MentorProfile.functions, MentorProfile.languages, MentorProfile.sessions_per_week,
        has_hours.label("has_weekly_hours")).where(*_LISTED).order_by(MentorProfile.id)))


def has_mentors(session: Session) -> bool:
    return session.scalar(select(MentorProfile.id).where(*_LISTED).limit(1)) is not None


def _available(session: Session, mentors: list[MentorProfile] | list[Row], now: datetime) -> np.ndarray:
    """Whether each mentor can take another session this week: weekly hours and room under the weekly limit (a
    stand-in for computing every mentor's slots, which costs too much across a directory)."""
    this_week = dict(session.execute(select(MentoringSession.mentor_id, func.count()).where(
        MentoringSession.status.in_(("pending", "confirmed")), MentoringSession.starts_at >= now,
        MentoringSession.starts_at < now + _WEEK).group_by(MentoringSession.mentor_id)).all())
    return np.array([m.has_weekly_hours and this_week.get(m.id, 0) < m.sessions_per_week for m in mentors])


_WEEK = timedelta(days=7)


def _mentor_arrays(mentors: list[MentorProfile] | list[Row], sector_index: dict[str, int]):
    mentor_side = side([m.id for m in mentors], [None] * len(mentors), [m.functions for m in mentors],
                       [m.languages for m in mentors], sector_index)
    mentor_sectors = np.zeros((len(mentors), len(sector_index)), dtype=np.int64)
    for row, mentor in enumerate(mentors):
        for sector in mentor.sectors:
            if sector in sector_index:
                mentor_sectors[row, sector_index[sector]] = 1
    return mentor_side, mentor_sectors


def _sector_positions() -> dict[str, int]:
    return {key: i for i, key in enumerate(sector_labels())}


@dataclass(frozen=True)
class Suggestion:
    mentor: MentorProfile
    score: int
    reasons: list[str]


def suggestions(session: Session, organisation_id: int, now: datetime, limit: int = SUGGESTIONS) -> list[Suggestion]:
    """The mentors who suit a startup best, with their score and the reasons in words."""
    mentors = _directory(session)
    if not mentors:
        return []
    needs = session.get(StartupNeeds, organisation_id)
    index = _sector_positions()
    startup = side([organisation_id], [needs.sector if needs else None], [needs.functions if needs else []],
                   [needs.languages if needs else []], index)
    mentor_side, mentor_sectors = _mentor_arrays(mentors, index)
    available = _available(session, mentors, now)
    conflicted = _conflicts(session, [organisation_id], mentors)
    row = scores(startup, mentor_sectors, mentor_side, available, current_weights(session))[0]
    row[list(conflicted.get(organisation_id, set()))] = -1
    best = [j for j in np.argsort(-row, kind="stable")[:limit] if row[j] > 0]
    return [Suggestion(mentors[j], int(row[j]), reasons(needs, mentors[j], bool(available[j]))) for j in best]


def _conflicts(session: Session, startups: Startups, mentors: list[MentorProfile] | list[Row]) -> dict[int, set[int]]:
    """organisation id → mentor columns that may not mentor it: a mentor who belongs to the startup."""
    column = {m.user_id: j for j, m in enumerate(mentors)}
    found: dict[int, set[int]] = {}
    for organisation_id, user_id in session.execute(select(
            OrganisationMember.organisation_id, OrganisationMember.user_id).where(
            OrganisationMember.organisation_id.in_(startups),
            OrganisationMember.user_id.in_(select(MentorProfile.user_id).where(*_LISTED)))):
        found.setdefault(organisation_id, set()).add(column[user_id])
    return found


# --- cohort matching --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class MatchingResult:
    proposed: int
    unmatched: int  # startups that got fewer than m mentors
    objective: int
    optimal: bool
    solve_seconds: float


@dataclass(frozen=True)
class Proposal:
    """What a matching found, before it is saved."""

    organisation_ids: list[int]
    startups: Startups  # the ids, or the query that gave them
    #: (organisation id, mentor id, score)
    pairs: list[tuple[int, int, int]]
    result: MatchingResult


class Step(enum.StrEnum):
    """The steps of a matching, for a page that shows its progress."""

    LOADING = "loading"
    SCORING = "scoring"
    SOLVING = "solving"
    SAVING = "saving"


def _no_progress(_step: Step) -> None:
    pass


def match(session: Session, startups: Startups, per_startup: int, actor: User, now: datetime) -> MatchingResult:
    """Proposes up to `per_startup` mentors for each startup, optimally, in one transaction."""
    proposed = propose(session, startups, per_startup, now)
    save_proposal(session, proposed, actor, now)
    return proposed.result


def propose(session: Session, startups: Startups, per_startup: int, now: datetime,
            progress: Callable[[Step], None] = _no_progress) -> Proposal:
    """Up to `per_startup` mentors for each startup (their ids, or a query of them: thousands of ids are better
    sent to the database as the query), the best total score, proved optimal; reads only, so a matching of a large
    cohort can report its progress from another transaction while it runs. Published matches stay, and count
    against the mentors' capacity."""
    if not 1 <= per_startup <= 5:
        raise Invalid(_l("Each startup gets from 1 to 5 mentors."), "per_startup")
    progress(Step.LOADING)
    organisation_ids = list(session.scalars(startups) if isinstance(startups, Select) else startups)
    mentors = _directory_figures(session)
    if not organisation_ids or not mentors:
        raise Conflict(_l("There must be startups to match and mentors in the directory."))
    published = session.execute(select(MentorMatch.mentor_id, MentorMatch.organisation_id).where(
        MentorMatch.status == MatchStatus.PUBLISHED)).all()
    index = _sector_positions()
    needs = {organisation_id: (sector, functions, languages) for organisation_id, sector, functions, languages
             in session.execute(select(StartupNeeds.organisation_id, StartupNeeds.sector, StartupNeeds.functions,
                                       StartupNeeds.languages).where(
                 StartupNeeds.organisation_id.in_(startups)))}
    conflicts = _conflicts(session, startups, mentors)
    available = _available(session, mentors, now)
    weights = current_weights(session)
    progress(Step.SCORING)
    no_needs = (None, [], [])
    startup_side = side(organisation_ids, *zip(*(needs.get(o, no_needs) for o in organisation_ids), strict=True),
                        index)
    row = {o: i for i, o in enumerate(organisation_ids)}
    column = {m.id: j for j, m in enumerate(mentors)}
    capacity = np.array([m.mentee_capacity for m in mentors], dtype=np.int64)
    need = np.full(len(organisation_ids), per_startup, dtype=np.int64)
    taken = {}  # row → mentor columns it may not get: mentors already matched to it, or who belong to it
    for mentor_id, organisation_id in published:
        if mentor_id in column:
            capacity[column[mentor_id]] -= 1
            if organisation_id in row:
                need[row[organisation_id]] -= 1
                taken.setdefault(row[organisation_id], set()).add(column[mentor_id])
    for organisation_id, columns in conflicts.items():
        taken.setdefault(row[organisation_id], set()).update(columns)
    groups = _alike(startup_side, taken)
    mentor_side, mentor_sectors = _mentor_arrays(mentors, index)
    weight = scores(startup_side.take(groups.first), mentor_sectors, mentor_side, available, weights)
    allowed = weight > 0
    for row_index, columns in taken.items():
        allowed[groups.of[row_index], list(columns)] = False
    progress(Step.SOLVING)
    solution = solve(Problem.build(need=np.maximum(need[groups.first], 0), capacity=np.maximum(capacity, 0),
                                   weight=weight, allowed=allowed, size=groups.size, exact=False))
    rows = [int(groups.members[member]) for member, _j in solution.pairs]
    filled = np.bincount(rows, minlength=len(organisation_ids))
    return Proposal(
        organisation_ids=organisation_ids, startups=startups,
        pairs=[(organisation_ids[i], mentors[j].id, int(weight[groups.of[i], j]))
               for i, (_member, j) in zip(rows, solution.pairs, strict=True)],
        result=MatchingResult(proposed=len(solution.pairs), unmatched=int((filled < need).sum()),
                              objective=solution.objective, optimal=solution.optimal,
                              solve_seconds=solution.solve_seconds))


@dataclass(frozen=True)
class _Groups:
    """Startups with the same needs, interchangeable for the matching: each group is one left node of the problem."""

    first: np.ndarray  # a startup row of each group
    of: np.ndarray  # each startup row's group
    size: np.ndarray  # startups per group
    members: np.ndarray  # startup rows group after group: the solver's member numbers


def _alike(startups: Side, taken: dict[int, set[int]]) -> _Groups:
    """Groups startups by sector, functions and languages; one with mentors it may not get stays alone."""
    profile = ((startups.sector + 1) << len(FUNCTIONS) | startups.functions) << len(LANGUAGES) | startups.languages
    alone = np.array(sorted(taken), dtype=np.int64)
    profile[alone] = -1 - alone
    _profiles, first, group_of, size = np.unique(profile, return_index=True, return_inverse=True,
                                                 return_counts=True)
    return _Groups(first=first, of=group_of, size=size, members=np.argsort(group_of, kind="stable"))


def save_proposal(session: Session, proposed: Proposal, actor: User, now: datetime) -> None:
    """Replaces the earlier unpublished proposal of these startups with this one."""
    # written as plain statements: no match of these is loaded in the session, and thousands go at once
    session.execute(delete(MentorMatch).where(MentorMatch.organisation_id.in_(proposed.startups),
                                              MentorMatch.status == MatchStatus.PROPOSED)
                    .execution_options(synchronize_session=False))
    if proposed.pairs:
        session.execute(insert(MentorMatch.__table__), [
            {"mentor_id": mentor_id, "organisation_id": organisation_id, "status": MatchStatus.PROPOSED,
             "score": score, "reasons": [], "created_by_id": actor.id, "created_at": now}
            for organisation_id, mentor_id, score in proposed.pairs])
    record(session, "mentoring.matched", actor_id=actor.id, startups=len(proposed.organisation_ids),
           proposed=proposed.result.proposed, objective=proposed.result.objective)


def proposal_page(session: Session, offset: int, limit: int) -> tuple[list[MentorMatch], int]:
    """A page of the matches, proposed and published, by startup; and how many there are in all."""
    total = session.scalar(select(func.count()).select_from(MentorMatch)) or 0
    page = session.scalars(select(MentorMatch).options(
        selectinload(MentorMatch.mentor).selectinload(MentorProfile.user), selectinload(MentorMatch.organisation))
        .order_by(MentorMatch.organisation_id, MentorMatch.score.desc(), MentorMatch.id).offset(offset).limit(limit))
    return list(page), total


def publish(session: Session, actor: User, now: datetime) -> int:
    """Publishes every proposed match; the mentor and the startup's members are each told once."""
    matches = list(session.scalars(select(MentorMatch).where(MentorMatch.status == MatchStatus.PROPOSED)
                                   .options(selectinload(MentorMatch.mentor).selectinload(MentorProfile.user),
                                            selectinload(MentorMatch.organisation)).with_for_update(of=MentorMatch)))
    members: dict[int, list[User]] = {}
    for organisation_id, user in session.execute(select(OrganisationMember.organisation_id, User).join(User).where(
            OrganisationMember.organisation_id.in_([m.organisation_id for m in matches]))):
        members.setdefault(organisation_id, []).append(user)
    for found in matches:
        found.status, found.published_at = MatchStatus.PUBLISHED, now
        for person in [found.mentor.user, *members.get(found.organisation_id, [])]:
            queue_mail(session, key=f"mentor-match:{found.id}:{person.id}", to=person.email, locale=person.locale,
                       template="mentor_match",
                       subject=_l("Mentoring: %(startup)s and %(mentor)s", startup=found.organisation.name,
                                  mentor=found.mentor.user.full_name),
                       name=person.full_name, match=found, mentor=found.mentor, startup=found.organisation,
                       link=absolute_url("mentoring.mentor", mentor_id=found.mentor_id))
    record(session, "mentoring.published", actor_id=actor.id, matches=len(matches))
    return len(matches)


def unmatched_startups(session: Session, organisation_ids, limit: int = 100) -> tuple[list[Organisation], int]:
    """The first `limit` startups (by name) of `organisation_ids` (a list or a query of ids) with no published
    mentor yet, and how many there are."""
    matched = select(MentorMatch.organisation_id).where(MentorMatch.status == MatchStatus.PUBLISHED)
    condition = [Organisation.id.in_(organisation_ids), Organisation.id.not_in(matched)]
    count = session.scalar(select(func.count()).select_from(Organisation).where(*condition)) or 0
    return list(session.scalars(select(Organisation).where(*condition).order_by(Organisation.name, Organisation.id)
                                .limit(limit))), count
