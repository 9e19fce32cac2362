"""Optimal bipartite assignment: reviewers to applications, mentors to startups.

Each left node (an application, a startup) has slots to fill; each right node (a reviewer, a mentor) takes at most its
capacity; a pair is used once and weighs what it is worth (expertise, affinity). The best assignment is a min-cost flow,
solved by OR-Tools. Solving on every allowed pair is needlessly slow at the city's sizes, so each left node first keeps
only its best candidates; the result is then proved optimal for the whole problem by reduced costs (shortest-path
potentials on the residual graph), and any pair that could still improve it is added back before solving again.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
from ortools.graph.python import min_cost_flow

#: candidates kept per left node before the proof; enough that the proof almost never adds pairs back
CANDIDATES_PER_LEFT = 20


@dataclass(frozen=True)
class Problem:
    """`weight[i, j]` is what pairing left i with right j is worth; only pairs where `allowed[i, j]` may be used."""

    need: np.ndarray  # slots per left node
    capacity: np.ndarray  # most pairs per right node
    weight: np.ndarray  # left × right, integers ≥ 0
    allowed: np.ndarray  # left × right, booleans: False for conflicts and for pairs that make no sense
    #: True: every slot must be filled or the problem is infeasible (reviewers); False: slots may stay empty (mentors)
    exact: bool = True

    @classmethod
    def build(cls, need, capacity, weight, allowed, exact: bool = True) -> Problem:
        weight = np.asarray(weight, dtype=np.int64)
        return cls(
            need=np.asarray(need, dtype=np.int64), capacity=np.asarray(capacity, dtype=np.int64),
            weight=weight, allowed=np.asarray(allowed, dtype=bool).reshape(weight.shape), exact=exact,
        )

    @property
    def shape(self) -> tuple[int, int]:
        return self.weight.shape


@dataclass
class Solution:
    pairs: list[tuple[int, int]]  # (left index, right index), sorted
    objective: int  # total weight of the pairs
    optimal: bool  # proved optimal for the whole problem, not only for the candidates
    #: slots that no assignment can fill (exact problems only); when > 0 nothing is assigned
    shortfall: int = 0
    solve_seconds: float = 0.0
    rounds: int = 0  # solves needed: 1 when the candidates already held the optimum
    unfillable: list[int] = field(default_factory=list)  # left nodes with fewer allowed partners than slots

    @property
    def feasible(self) -> bool:
        return self.shortfall == 0


def solve(problem: Problem, candidates_per_left: int = CANDIDATES_PER_LEFT) -> Solution:
    started = time.perf_counter()
    partners = problem.allowed.sum(axis=1)
    unfillable = np.flatnonzero(partners < problem.need).tolist() if problem.exact else []
    if problem.exact and (unfillable or problem.capacity.sum() < problem.need.sum()):
        return _infeasible(problem, unfillable, started)

    candidates = _best_candidates(problem, candidates_per_left)
    rounds = 0
    while True:
        rounds += 1
        used = _solve_flow(problem, candidates)
        if used is None:
            if candidates.sum() == problem.allowed.sum():
                return _infeasible(problem, unfillable, started)
            # the shortlist cannot fill every slot: a longer one, and in the end every pair
            candidates_per_left *= 2
            candidates = _best_candidates(problem, candidates_per_left)
            continue
        improving, reduced = _pairs_that_could_improve(problem, candidates, used)
        if not improving.any():
            break
        # the potentials just found price every right node: each row's cheapest pairs at those prices are where the
        # optimum most likely lies (the most improving pairs among them), so they join the shortlist
        candidates |= _cheapest(problem, reduced, candidates, candidates_per_left)
    rows, cols = np.nonzero(used)
    return Solution(
        pairs=list(zip(rows.tolist(), cols.tolist(), strict=True)),
        objective=int(problem.weight[rows, cols].sum()),
        optimal=True, solve_seconds=time.perf_counter() - started, rounds=rounds,
    )


def _best_candidates(problem: Problem, per_left: int) -> np.ndarray:
    """Each left node's `per_left` heaviest allowed pairs. Equal weights are common (every reviewer of a sector at
    the same level), so ties are broken at random: otherwise every application would shortlist the same reviewers."""
    left, right = problem.shape
    if right <= per_left:
        return problem.allowed.copy()
    jitter = np.random.default_rng(0).random(problem.shape)  # below 1: never reorders different integer weights
    ranked = np.where(problem.allowed, problem.weight + jitter, -1.0)
    candidates = np.zeros(problem.shape, dtype=bool)
    np.put_along_axis(candidates, np.argpartition(-ranked, per_left - 1, axis=1)[:, :per_left], True, axis=1)
    return candidates & problem.allowed


def _cheapest(problem: Problem, reduced: np.ndarray, candidates: np.ndarray, per_left: int) -> np.ndarray:
    """Each left node's `per_left` left-out allowed pairs of the lowest reduced cost: the most improving first, so a
    node with an improving pair always brings one."""
    per_left = min(per_left, problem.shape[1])
    ranked = np.where(problem.allowed & ~candidates, reduced, np.iinfo(np.int64).max)
    chosen = np.zeros(problem.shape, dtype=bool)
    np.put_along_axis(chosen, np.argpartition(ranked, per_left - 1, axis=1)[:, :per_left], True, axis=1)
    return chosen & problem.allowed & ~candidates & (reduced < 0)


def _network(problem: Problem, pair_mask: np.ndarray):
    """Nodes: left 0..L-1, right L..L+R-1, the sink L+R. Returns the solver and the pair arcs' (left, right)."""
    left, right = problem.shape
    sink = left + right
    rows, cols = np.nonzero(pair_mask)
    tails = [rows, left + np.arange(right)]
    heads = [left + cols, np.full(right, sink)]
    capacities = [np.ones(len(rows), dtype=np.int64), problem.capacity]
    costs = [-problem.weight[rows, cols], np.zeros(right, dtype=np.int64)]
    if not problem.exact:  # a slot left empty flows straight to the sink at no gain
        tails.append(np.arange(left))
        heads.append(np.full(left, sink))
        capacities.append(problem.need)
        costs.append(np.zeros(left, dtype=np.int64))
    network = min_cost_flow.SimpleMinCostFlow()
    network.add_arcs_with_capacity_and_unit_cost(
        np.concatenate(tails), np.concatenate(heads), np.concatenate(capacities), np.concatenate(costs))
    supplies = np.concatenate([problem.need, np.zeros(right, dtype=np.int64), [-problem.need.sum()]])
    network.set_nodes_supplies(np.arange(left + right + 1), supplies)
    return network, rows, cols


def _solve_flow(problem: Problem, pair_mask: np.ndarray) -> np.ndarray | None:
    """The pairs used by a min-cost flow on `pair_mask`'s pairs, or None when they cannot fill every slot."""
    network, rows, cols = _network(problem, pair_mask)
    if network.solve() != network.OPTIMAL:
        return None
    pair_flows = network.flows(np.arange(len(rows)))
    used = np.zeros(problem.shape, dtype=bool)
    used[rows[pair_flows > 0], cols[pair_flows > 0]] = True
    return used


def _pairs_that_could_improve(problem: Problem, candidates: np.ndarray,
                              used: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Allowed pairs left out of the candidates whose reduced cost is negative (none: the flow is optimal for every
    pair), and every pair's reduced cost.

    Shortest-path distances on the shortlist's residual graph are potentials under which each of its arcs has a
    non-negative reduced cost; a left-out pair (i, j), unused, would be the arc i → j of cost -weight. When every
    such arc's reduced cost is non-negative too, the potentials certify the flow optimal for the whole problem."""
    left, right = problem.shape
    tails, heads, costs = _residual_arcs(problem, candidates, used)
    distance, settled = _bellman_ford(tails, heads, costs, np.zeros(left + right + 1, dtype=np.int64))
    if not settled:
        raise AssertionError("a negative cycle in the shortlist's residual graph: the flow was not optimal")
    reduced = distance[:left, None] - problem.weight - distance[None, left:left + right]
    return problem.allowed & ~candidates & (reduced < 0), reduced


def _residual_arcs(problem: Problem, candidates: np.ndarray, used: np.ndarray):
    left, right = problem.shape
    sink = left + right
    load = used.sum(axis=0)
    filled = used.sum(axis=1)
    free_rows, free_cols = np.nonzero(candidates & ~used)
    used_rows, used_cols = np.nonzero(used)
    open_right = np.flatnonzero(load < problem.capacity)
    busy_right = np.flatnonzero(load > 0)
    tails = [free_rows, left + used_cols, left + open_right, np.full(len(busy_right), sink)]
    heads = [left + free_cols, used_rows, np.full(len(open_right), sink), left + busy_right]
    costs = [-problem.weight[free_rows, free_cols], problem.weight[used_rows, used_cols],
             np.zeros(len(open_right), dtype=np.int64), np.zeros(len(busy_right), dtype=np.int64)]
    if not problem.exact:
        # the bypass i → sink carries the slots left empty: it can take more while i has pairs, give back while empty
        has_pairs = np.flatnonzero(filled > 0)
        has_empty = np.flatnonzero(filled < problem.need)
        tails += [has_pairs, np.full(len(has_empty), sink)]
        heads += [np.full(len(has_pairs), sink), has_empty]
        costs += [np.zeros(len(has_pairs), dtype=np.int64), np.zeros(len(has_empty), dtype=np.int64)]
    return np.concatenate(tails), np.concatenate(heads), np.concatenate(costs)


def _bellman_ford(tails: np.ndarray, heads: np.ndarray, costs: np.ndarray,
                  distance: np.ndarray) -> tuple[np.ndarray, bool]:
    """Shortest distances from a virtual root joined to every node at cost 0, starting from `distance` (any values
    at most the true ones' bound), relaxing every arc at once per round; and whether they settled."""
    distance = distance.copy()
    if not len(tails):
        return distance, True
    order = np.argsort(heads, kind="stable")
    tails, heads, costs = tails[order], heads[order], costs[order]
    targets, starts = np.unique(heads, return_index=True)
    for _round in range(len(distance)):
        offered = np.minimum.reduceat(distance[tails] + costs, starts)
        improved = offered < distance[targets]
        if not improved.any():
            return distance, True
        distance[targets[improved]] = offered[improved]
    return distance, False


def _infeasible(problem: Problem, unfillable: list[int], started: float) -> Solution:
    """Nothing is assigned; the shortfall says how many slots the largest possible assignment leaves empty."""
    network, _rows, _cols = _network(problem, problem.allowed)
    network.solve_max_flow_with_min_cost()
    shortfall = int(problem.need.sum() - network.maximum_flow())
    return Solution(pairs=[], objective=0, optimal=True, shortfall=shortfall,
                    solve_seconds=time.perf_counter() - started, unfillable=unfillable)
