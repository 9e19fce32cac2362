"""Cohort mentor matching end to end through the manager's service, against a bare solve of every pair; and free
slots for one mentor over 90 days.

    .venv/bin/python bench/matching.py [--startups 5000] [--mentors 1000] [--capacity 5] [--m 1]
    .venv/bin/python bench/matching.py --startups 20000 --mentors 3000 --capacity 8
    .venv/bin/python bench/matching.py --instance ../shared/bench/matching_small.json.gz

Default: startups with generated needs (sector, one to three functions, languages) and mentors with generated
expertise are loaded into a fresh schema of the portal's PostgreSQL database (BENCH_DATABASE_URL, default the test
database); the matching the manager's "Propose the matches" button starts (portal.mentoring.runs) is queued and
run as the scheduler runs it, while the bench follows its steps as the manager's page does;
`seconds` is from the click to the proposal saved, `solve_s` the solver's part. The service hands the solver one
left node per group of startups with the same needs (portal.mentoring.matching._alike). The reference is OR-Tools on
every allowed pair of that same problem, in the same run; up to 5,000 startups also OR-Tools on every pair of the
problem written out startup by startup, whose optimum the grouped one must equal. Then one mentor's free slots over
90 days are computed 50 times.
With `--instance FILE` the same solver runs on an instance of ../shared/bench/ (pair scores given one by one).

Prints the figures and ends with one JSON line. Targets: optimal, solver <= 0.2 s and end to end < 1 s at the
default size (< 5 s at 20,000 x 3,000), slots for 90 days < 20 ms.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import threading
import time
from datetime import time as clock_time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import insert, select  # noqa: E402

from app import create_app  # noqa: E402
from bench.common import report, scratch_database  # noqa: E402
from bench.instances import every_pair, one_row_per_member, problems_solved_by, read_instance  # noqa: E402
from bench.load import percentile  # noqa: E402
from portal.accounts.models import Organisation, OrganisationKind, User  # noqa: E402
from portal.db import utcnow  # noqa: E402
from portal.matching import solve  # noqa: E402
from portal.mentoring import matching, runs, sessions  # noqa: E402
from portal.mentoring.models import (  # noqa: E402
    MatchingRun,
    MentorProfile,
    MentorStatus,
    RunStatus,
    StartupNeeds,
    WeeklyHours,
)
from portal.mentoring.taxonomy import FUNCTIONS, LANGUAGES  # noqa: E402
from portal.sectors import SECTORS  # noqa: E402

NO_LOGIN = "!"  # noqa: S105 - accounts of a throw-away schema, never logged into
TARGETS = {"solve_s": 0.2, "seconds": 1.0, "seconds_large": 5.0, "slots_ms": 20}
#: the largest problem, in startups, also solved startup by startup on every pair (20,000 × 3,000 would take minutes)
ONE_BY_ONE_UP_TO = 5000


def load(db, startups: int, mentors: int, capacity: int, seed: int) -> tuple[list[int], int]:
    rng = random.Random(seed)
    sectors = [key for key, _vi, _en in SECTORS]
    functions, languages = list(FUNCTIONS), list(LANGUAGES)
    now = utcnow()
    with db.transaction() as s:
        manager = User(email="manager@bench.example", full_name="Manager", password_hash=NO_LOGIN, created_at=now)
        s.add(manager)
        s.flush()
        organisation_ids = s.scalars(insert(Organisation).returning(Organisation.id), [
            {"name": f"Startup {i}", "kind": OrganisationKind.STARTUP, "created_at": now}
            for i in range(startups)]).all()
        s.execute(insert(StartupNeeds), [
            {"organisation_id": o, "sector": rng.choice(sectors), "stage": "mvp",
             "functions": rng.sample(functions, rng.randint(1, 3)),
             "languages": ["vi"] + (["en"] if rng.random() < 0.4 else []), "notes": "", "updated_at": now}
            for o in organisation_ids])
        user_ids = s.scalars(insert(User).returning(User.id), [
            {"email": f"mentor{i}@bench.example", "full_name": f"Mentor {i}", "password_hash": NO_LOGIN, "locale": "vi",
             "is_active": True, "created_at": now} for i in range(mentors)]).all()
        profile_ids = s.scalars(insert(MentorProfile).returning(MentorProfile.id), [
            {"user_id": u, "status": MentorStatus.APPROVED, "visible": True, "mentee_capacity": capacity,
             "sectors": rng.sample(sectors, rng.randint(1, 3)), "functions": rng.sample(functions, rng.randint(1, 4)),
             "languages": rng.sample(languages, rng.randint(1, 3)), "timezone": "Asia/Ho_Chi_Minh",
             "session_lengths": [60], "created_at": now, "headline_vi": "", "headline_en": "", "bio_vi": "",
             "bio_en": "", "organisation_name": "", "location": "", "buffer_minutes": 15,
             "minimum_notice_hours": 24, "sessions_per_day": 3, "sessions_per_week": 5,
             "confirms_automatically": True} for u in user_ids]).all()
        s.execute(insert(WeeklyHours), [{"mentor_id": p, "weekday": d, "starts": clock_time(9), "ends": clock_time(17)}
                                        for p in profile_ids for d in range(5)])
        return list(organisation_ids), manager.id


def measure_slots(db) -> float:
    with db.session_factory() as s:
        mentor = sessions.mentor_for_booking(s, s.scalar(select(MentorProfile.id).limit(1)))
        timings = []
        for _ in range(50):
            started = time.perf_counter()
            sessions.slots_for(s, mentor, 60, utcnow(), days=90)
            timings.append((time.perf_counter() - started) * 1000)
    timings.sort()
    return round(percentile(timings, 0.5), 2)


def run_database(args) -> dict:
    with scratch_database("matching") as url, tempfile.TemporaryDirectory() as instance:
        app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "RATE_LIMITS": False, "DEMO_CARD": False},
                         instance_path=instance)
        db = app.extensions["portal.db"]
        try:
            loaded = time.perf_counter()
            organisation_ids, manager_id = load(db, args.startups, args.mentors, args.capacity, args.seed)
            load_s = time.perf_counter() - loaded
            with app.test_request_context(), problems_solved_by(matching) as seen:
                started = time.perf_counter()
                with db.transaction() as s:
                    run_id = runs.start(s, s.get(User, manager_id), None, args.m, utcnow()).id
                steps = follow(db, run_id, lambda: runs.run_queued(app))
                seconds = time.perf_counter() - started
            with db.session_factory() as s:
                run = s.get(MatchingRun, run_id)
                if run.status != RunStatus.DONE:
                    raise RuntimeError(f"the matching run ended {run.status}: {run.error}")
                result = run.result
            reference_objective, reference_s = every_pair(seen[0])
            one_by_one = one_by_one_reference(seen[0]) if args.startups <= ONE_BY_ONE_UP_TO else {}
            slots_ms = measure_slots(db)
        finally:
            db.dispose()
    return {"startups": args.startups, "mentors": args.mentors, "capacity": args.capacity, "m": args.m,
            "load_s": round(load_s, 2), "seconds": round(seconds, 3), "solve_s": result["solve_seconds"],
            "reference_solve_s": round(reference_s, 4), "solve_ratio": round(result["solve_seconds"] / reference_s, 3),
            "objective": result["objective"], "reference_objective": reference_objective,
            "optimal": result["optimal"] and result["objective"] == reference_objective
            and result["objective"] == one_by_one.get("one_by_one_objective", reference_objective),
            "left_nodes": seen[0].shape[0], **one_by_one,
            "matched": result["proposed"], "unmatched": result["unmatched"], "steps_seen": steps,
            "slots_90_days_ms": slots_ms}


def one_by_one_reference(problem) -> dict:
    """OR-Tools on every pair of the problem with one row per startup: the optimum grouping must not change."""
    objective, seconds = every_pair(one_row_per_member(problem))
    return {"one_by_one_objective": objective, "one_by_one_solve_s": round(seconds, 4)}


def follow(db, run_id: int, execute) -> list[str]:
    """Runs the matching as the scheduler would, in a thread, while this one reads its progress as the manager's
    page does; returns the steps seen, with the seconds at which each was first seen."""
    worker = threading.Thread(target=execute)
    started = time.perf_counter()
    worker.start()
    seen: list[str] = []
    while worker.is_alive():
        with db.session_factory() as s:
            step = s.scalar(select(MatchingRun.step).where(MatchingRun.id == run_id))
        if step and not any(line.startswith(step) for line in seen):
            seen.append(f"{step} {time.perf_counter() - started:.2f} s")
            print(f"  progress: {seen[-1]}", flush=True)
        time.sleep(0.05)
    worker.join()
    return seen


def run_instance(path: Path) -> dict:
    instance = read_instance(path)
    problem = instance.problem
    solution = min((solve(problem) for _ in range(3)), key=lambda s: s.solve_seconds)
    reference_objective, reference_s = every_pair(problem)
    return {"startups": problem.shape[0], "mentors": problem.shape[1], "seconds": round(solution.solve_seconds, 4),
            "solve_s": round(solution.solve_seconds, 4), "reference_solve_s": round(reference_s, 4),
            "objective": solution.objective, "reference_objective": reference_objective,
            "optimal": solution.optimal and solution.objective == reference_objective, **instance.meta}


def targets_met(figures: dict) -> bool:
    large = figures["startups"] > 5000
    return bool(figures["optimal"] and figures["seconds"] < (TARGETS["seconds_large"] if large else TARGETS["seconds"])
                and (large or figures["solve_s"] <= TARGETS["solve_s"])
                and figures.get("slots_90_days_ms", 0) < TARGETS["slots_ms"])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--startups", type=int, default=5000)
    parser.add_argument("--mentors", type=int, default=1000)
    parser.add_argument("--capacity", type=int, default=5)
    parser.add_argument("--m", type=int, default=1)
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--instance", type=Path)
    args = parser.parse_args()
    return report(lambda: run_instance(args.instance) if args.instance else run_database(args), targets_met)


if __name__ == "__main__":
    sys.exit(main())
