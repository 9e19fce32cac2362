"""Assignment and matching instances: read from the shared format (`../shared/bench/README.md`), or generated.

An instance becomes a `portal.matching.Problem` plus the ids of its rows and columns, so the portal's solver runs on
exactly the input any other solver is given, and a solution can be written back with the instance's own ids.
"""

from __future__ import annotations

import gzip
import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from portal.matching import Problem, Solution, solve

SHARED_INSTANCES = Path(__file__).resolve().parents[2] / "shared" / "bench"


@dataclass
class Instance:
    problem: Problem
    left_ids: list  # applications or startups, in row order
    right_ids: list  # reviewers or mentors, in column order
    meta: dict

    def solution_pairs(self, solution: Solution) -> list[list]:
        return [[self.left_ids[i], self.right_ids[j]] for i, j in solution.pairs]


def read_instance(path: Path) -> Instance:
    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as file:
        data = json.load(file)
    kind = data.get("format")
    if kind == "reviewer-assignment/1":
        return _read(data, "applications", "reviewers", "cap", "affinity", need=int(data["k"]), exact=True)
    if kind == "mentor-matching/1":
        return _read(data, "startups", "mentors", "capacity", "scores", need=int(data["m"]), exact=False)
    raise ValueError(f"{path}: unknown instance format {kind!r}")


def _read(data: dict, left_key: str, right_key: str, capacity_key: str, weights_key: str, need: int,
          exact: bool) -> Instance:
    left_ids = [item["id"] for item in data[left_key]]
    right_ids = [item["id"] for item in data[right_key]]
    row = {item_id: index for index, item_id in enumerate(left_ids)}
    column = {item_id: index for index, item_id in enumerate(right_ids)}
    weight = np.zeros((len(left_ids), len(right_ids)), dtype=np.int64)
    for left_id, right_id, value in data[weights_key]:
        weight[row[left_id], column[right_id]] = value
    if exact:  # every pair but the conflicts may be assigned, even at affinity 0
        allowed = np.ones(weight.shape, dtype=bool)
        for left_id, right_id in data.get("conflicts", []):
            allowed[row[left_id], column[right_id]] = False
    else:  # a pair not listed is never matched
        allowed = weight > 0
    problem = Problem.build(
        need=np.full(len(left_ids), need), capacity=[item[capacity_key] for item in data[right_key]],
        weight=weight, allowed=allowed, exact=exact,
    )
    return Instance(problem, left_ids, right_ids, data.get("meta", {}))


def generated_assignment(apps: int, reviewers: int, k: int, cap: int, conflict_rate: float = 0.05,
                         topics: int = 40, seed: int = 1) -> Instance:
    """Applications with two or three topics, reviewers with expertise (1–5) in four to eight of them: an
    application's affinity with a reviewer is the expertise they share, scaled to 1..100."""
    rng = np.random.default_rng(seed)
    app_topics = np.zeros((apps, topics), dtype=np.int64)
    for row in range(apps):
        app_topics[row, rng.choice(topics, size=rng.integers(2, 4), replace=False)] = 1
    expertise = np.zeros((reviewers, topics), dtype=np.int64)
    for row in range(reviewers):
        chosen = rng.choice(topics, size=rng.integers(4, 9), replace=False)
        expertise[row, chosen] = rng.integers(1, 6, size=len(chosen))
    weight = np.minimum(app_topics @ expertise.T * 7, 100)
    allowed = rng.random((apps, reviewers)) >= conflict_rate
    problem = Problem.build(need=np.full(apps, k), capacity=np.full(reviewers, cap), weight=weight, allowed=allowed)
    meta = {"apps": apps, "reviewers": reviewers, "k": k, "cap": cap, "conflict_rate": conflict_rate, "seed": seed}
    return Instance(problem, list(range(1, apps + 1)), list(range(1, reviewers + 1)), meta)


def violations(problem: Problem, solution: Solution) -> list[str]:
    """What a solution breaks, checked from the pairs alone: duplicates, forbidden pairs, slots, capacities."""
    found = []
    pairs = solution.pairs
    if len(set(pairs)) != len(pairs):
        found.append("a pair is used twice")
    filled = np.zeros(len(problem.need), dtype=np.int64)
    load = np.zeros(len(problem.capacity), dtype=np.int64)
    for left, right in pairs:
        if not problem.allowed[left, right]:
            found.append(f"forbidden pair ({left}, {right})")
        filled[left] += 1
        load[right] += 1
    wrong = np.flatnonzero(filled != problem.need) if problem.exact else np.flatnonzero(filled > problem.need)
    found += [f"row {row} has {filled[row]} of {problem.need[row]}" for row in wrong[:10]]
    found += [f"column {col} over capacity" for col in np.flatnonzero(load > problem.capacity)[:10]]
    if solution.objective != int(sum(problem.weight[left, right] for left, right in pairs)):
        found.append("the objective is not the pairs' total weight")
    return found


@contextmanager
def problems_solved_by(module) -> Iterator[list[Problem]]:
    """Records each problem a service module hands to its `solve` while the block runs, so a benchmark can give
    the very same problem to the reference solver."""
    seen: list[Problem] = []
    original = module.solve

    def recording(problem, *args, **kwargs):
        seen.append(problem)
        return original(problem, *args, **kwargs)

    module.solve = recording
    try:
        yield seen
    finally:
        module.solve = original


def one_row_per_member(problem: Problem) -> Problem:
    """The same problem with each member of a left node on its own row (startups one by one, not by their needs)."""
    rows = np.repeat(np.arange(problem.shape[0]), problem.size)
    return Problem.build(need=problem.need[rows], capacity=problem.capacity, weight=problem.weight[rows],
                         allowed=problem.allowed[rows], exact=problem.exact)


def every_pair(problem: Problem) -> tuple[int, float]:
    """The reference: OR-Tools on every allowed pair; its objective and its seconds."""
    started = time.perf_counter()
    solution = solve(problem, row_candidates=problem.shape[1])
    return solution.objective, time.perf_counter() - started
