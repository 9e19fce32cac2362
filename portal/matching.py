"""Optimal bipartite assignment: reviewers to applications, mentors to startups.

Each left node (an application, a startup) has slots to fill; each right node (a reviewer, a mentor) takes at most its
capacity; a pair is used once and weighs what it is worth (expertise, affinity). The best assignment is a min-cost flow,
solved by OR-Tools. Solving on every allowed pair is needlessly slow at the city's sizes, so the flow is first solved
on a shortlist: each left node's best partners and each right node's best takers, ties broken at random (a whole
sector's applications would otherwise shortlist the same reviewers), "best" at the prices of the small problem made
by merging left nodes of equal weights, where there are many. The result is then proved optimal for the whole
problem by reduced costs (shortest-path potentials on the residual graph); while some left-out pair could still improve
it, the pairs cheapest at those potentials join the shortlist and the flow is solved again.

Left nodes may stand for several interchangeable members (startups with the same needs): a pair then carries up to
one unit per member, and the units are dealt out to the members in turn.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
from numpy.random import default_rng
from ortools.graph.python import min_cost_flow

#: partners each left node keeps on the first shortlist
ROW_CANDIDATES = 10
#: takers each right node keeps on the first shortlist, beyond twice the largest capacity: enough that a right node
#: worth filling can be filled from its own list, even when its capacity is small
COLUMN_CANDIDATES_MORE = 10


@dataclass(frozen=True)
class Problem:
    """`weight[i, j]` is what pairing left i with right j is worth; only pairs where `allowed[i, j]` may be used.
    Left node i stands for `size[i]` interchangeable members, each with `need[i]` slots."""

    need: np.ndarray  # slots per member of a left node
    capacity: np.ndarray  # most pairs per right node
    weight: np.ndarray  # left × right, integers ≥ 0
    allowed: np.ndarray  # left × right, booleans: False for conflicts and for pairs that make no sense
    size: np.ndarray  # members per left node
    #: True: every slot must be filled or the problem is infeasible (reviewers); False: slots may stay empty (mentors)
    exact: bool = True

    @classmethod
    def build(cls, need, capacity, weight, allowed, exact: bool = True, size=None) -> Problem:
        weight = np.asarray(weight, dtype=np.int64)
        return cls(
            need=np.asarray(need, dtype=np.int64), capacity=np.asarray(capacity, dtype=np.int64),
            weight=weight, allowed=np.asarray(allowed, dtype=bool).reshape(weight.shape),
            size=np.ones(weight.shape[0], dtype=np.int64) if size is None else np.asarray(size, dtype=np.int64),
            exact=exact,
        )

    @property
    def shape(self) -> tuple[int, int]:
        return self.weight.shape

    @property
    def slots(self) -> np.ndarray:
        """Slots per left node, all its members together."""
        return self.need * self.size

    def members(self, left_nodes: np.ndarray) -> np.ndarray:
        """The members of these left nodes: members are numbered left node after left node."""
        first = np.cumsum(self.size) - self.size
        return np.concatenate([np.arange(first[i], first[i] + self.size[i]) for i in left_nodes] or [[]]).astype(int)


@dataclass
class Solution:
    pairs: list[tuple[int, int]]  # (member, right index), sorted
    objective: int  # total weight of the pairs
    optimal: bool  # proved optimal for the whole problem, not only for the shortlist
    #: slots that no assignment can fill (exact problems only); when > 0 nothing is assigned
    shortfall: int = 0
    solve_seconds: float = 0.0
    rounds: int = 0  # solves needed: 1 when the first shortlist already held the optimum
    unfillable: list[int] = field(default_factory=list)  # members with fewer allowed partners than slots

    @property
    def feasible(self) -> bool:
        return self.shortfall == 0


def solve(problem: Problem, row_candidates: int = ROW_CANDIDATES, column_candidates: int | None = None) -> Solution:
    started = time.perf_counter()
    partners = problem.allowed.sum(axis=1)
    unfillable = problem.members(np.flatnonzero(partners < problem.need)).tolist() if problem.exact else []
    if problem.exact and (unfillable or problem.capacity.sum() < problem.slots.sum()):
        return _infeasible(problem, unfillable, started)
    if column_candidates is None:
        column_candidates = 2 * int(problem.capacity.max(initial=0)) + COLUMN_CANDIDATES_MORE
    tie_breaker = default_rng(0).integers(0, 1 << _TIE_BITS, problem.shape, dtype=np.int32)
    excluded = ~problem.allowed  # pairs that cannot join the shortlist: forbidden ones and those already on it
    candidates = _shortlist(_ranked(_opening_costs(problem), tie_breaker, excluded), row_candidates,
                            column_candidates)
    rounds = 0
    while True:
        rounds += 1
        arcs = _Arcs.of(problem, candidates)
        flow = _solve_flow(problem, arcs)
        if flow is None:
            if len(arcs.rows) == partners.sum():
                return _infeasible(problem, unfillable, started)
            # the shortlist cannot fill every slot: a longer one, and in the end every pair
            row_candidates, column_candidates = 2 * row_candidates, 2 * column_candidates
            candidates = _shortlist(_ranked(_opening_costs(problem), tie_breaker, excluded), row_candidates,
                                    column_candidates)
            continue
        excluded |= candidates
        ranked = _ranked(_reduced_costs(problem, arcs, flow), tie_breaker, excluded)
        if not (ranked < 0).any():  # no left-out pair has a negative reduced cost: the flow is optimal for all
            break
        # the potentials just found price every node: the left-out pairs cheapest at those prices, for each left
        # node and for each right node, are where the optimum most likely lies (a row's most improving pair among
        # them, so the shortlist grows every round and the loop ends)
        candidates |= _shortlist(ranked, row_candidates, column_candidates)
    carrying = flow > 0
    return Solution(
        pairs=_deal_out(problem, arcs.rows[carrying], arcs.cols[carrying], flow[carrying]),
        objective=int((arcs.weights * flow).sum()),
        optimal=True, solve_seconds=time.perf_counter() - started, rounds=rounds,
    )


def _opening_costs(problem: Problem) -> np.ndarray:
    """Each pair's cost for the first shortlist. Left nodes of equal weights and needs (the applications of one
    sector) are merged, their conflicts set aside: the small problem this makes is solved whole, and its potentials
    price every right node nearly as the optimum does, so the pairs cheapest at those prices are where the optimum
    lies. When few left nodes are alike, a pair costs minus its weight."""
    left, right = problem.shape
    hashing = default_rng(1).integers(1, 1 << 62, right + 1)
    fingerprint = problem.weight @ hashing[:right] + problem.need * hashing[right]  # wraps around: only a hash
    _alike, first, group_of = np.unique(fingerprint, return_index=True, return_inverse=True)
    if 2 * len(first) > left:
        return -problem.weight
    order = np.argsort(group_of, kind="stable")
    bounds = np.searchsorted(group_of[order], np.arange(len(first)))
    merged = Problem(need=problem.need[first], capacity=problem.capacity, weight=problem.weight[first],
                     allowed=np.logical_or.reduceat(problem.allowed[order], bounds, axis=0),
                     size=np.bincount(group_of, weights=problem.size).astype(np.int64), exact=problem.exact)
    arcs = _Arcs.of(merged, merged.allowed)
    flow = _solve_flow(merged, arcs)
    if flow is None:  # infeasible: the solve that follows says by how much
        return -problem.weight
    return _reduced_costs(merged, arcs, flow)[group_of]


#: random low bits under each cost when ranking pairs: ties are broken at random, different costs never reordered
_TIE_BITS = 12


def _ranked(cost: np.ndarray, tie_breaker: np.ndarray, excluded: np.ndarray) -> np.ndarray:
    """Sort keys of the pairs by cost, ties at random, the excluded last (the key type's largest value); a key is
    negative exactly when its cost is. 32-bit keys when the costs allow: half the memory, a faster partition."""
    small = 1 << (31 - _TIE_BITS)
    keys = cost.astype(np.int32 if -small < cost.min(initial=0) and cost.max(initial=0) < small - 1 else np.int64)
    keys <<= _TIE_BITS
    keys += tie_breaker
    keys[excluded] = np.iinfo(keys.dtype).max
    return keys


def _shortlist(ranked: np.ndarray, per_row: int, per_column: int) -> np.ndarray:
    """Each left node's `per_row` and each right node's `per_column` first pairs, excluded ones never."""
    left, right = ranked.shape
    selectable = ranked != np.iinfo(ranked.dtype).max
    if per_row >= right or per_column >= left:
        return selectable
    row_last = np.partition(ranked, per_row - 1, axis=1)[:, per_row - 1]
    # a column's partition runs on a transposed copy: partitioning along the slow axis costs three times as much
    by_column = np.ascontiguousarray(ranked.T)
    by_column.partition(per_column - 1, axis=1)
    chosen = ranked <= row_last[:, None]
    chosen |= ranked <= by_column[:, per_column - 1][None, :]
    return chosen & selectable


def _deal_out(problem: Problem, rows: np.ndarray, cols: np.ndarray, units: np.ndarray) -> list[tuple[int, int]]:
    """(member, right) pairs from a left node's units on each pair, dealt to its members in turn: a pair carries at
    most one unit per member, so no member gets a right node twice, and none more slots than it has."""
    unit_rows, unit_cols = np.repeat(rows, units), np.repeat(cols, units)
    first_unit = np.searchsorted(unit_rows, unit_rows)  # rows come sorted from np.nonzero
    first_member = np.cumsum(problem.size) - problem.size
    members = first_member[unit_rows] + (np.arange(len(unit_rows)) - first_unit) % problem.size[unit_rows]
    return sorted(zip(members.tolist(), unit_cols.tolist(), strict=True))


@dataclass(frozen=True)
class _Arcs:
    """The pair arcs of a network: left and right ends, in row order, and their weights."""

    rows: np.ndarray
    cols: np.ndarray
    weights: np.ndarray

    @classmethod
    def of(cls, problem: Problem, pair_mask: np.ndarray) -> _Arcs:
        rows, cols = np.nonzero(pair_mask)
        return cls(rows, cols, problem.weight[rows, cols])


def _network(problem: Problem, arcs: _Arcs):
    """Nodes: left 0..L-1, right L..L+R-1, the sink L+R; the pair arcs come first, in the order of `arcs`."""
    left, right = problem.shape
    sink = left + right
    tails = [arcs.rows, left + np.arange(right)]
    heads = [left + arcs.cols, np.full(right, sink)]
    capacities = [problem.size[arcs.rows], problem.capacity]
    # weights in steps (20 per expertise level) are divided by the step: the cost scaling then refines fewer times
    step = max(int(np.gcd.reduce(arcs.weights)), 1)
    costs = [-arcs.weights // step, np.zeros(right, dtype=np.int64)]
    if not problem.exact:  # a slot left empty flows straight to the sink at no gain
        tails.append(np.arange(left))
        heads.append(np.full(left, sink))
        capacities.append(problem.slots)
        costs.append(np.zeros(left, dtype=np.int64))
    network = min_cost_flow.SimpleMinCostFlow()
    network.add_arcs_with_capacity_and_unit_cost(
        np.concatenate(tails), np.concatenate(heads), np.concatenate(capacities), np.concatenate(costs))
    supplies = np.concatenate([problem.slots, np.zeros(right, dtype=np.int64), [-problem.slots.sum()]])
    network.set_nodes_supplies(np.arange(left + right + 1), supplies)
    return network


def _solve_flow(problem: Problem, arcs: _Arcs) -> np.ndarray | None:
    """The units on each pair arc in a min-cost flow, or None when the arcs cannot fill every slot."""
    network = _network(problem, arcs)
    if network.solve() != network.OPTIMAL:
        return None
    return network.flows(np.arange(len(arcs.rows)))


def _reduced_costs(problem: Problem, arcs: _Arcs, flow: np.ndarray) -> np.ndarray:
    """Every pair's reduced cost at potentials that prove the flow optimal for the shortlist's arcs: when no
    left-out pair's is negative, the flow is optimal for the whole problem.

    Shortest-path distances on the shortlist's residual graph are potentials under which each of its arcs has a
    non-negative reduced cost; a left-out pair (i, j), carrying nothing, would be the arc i → j of cost -weight."""
    left, right = problem.shape
    tails, heads, costs = _residual_arcs(problem, arcs, flow)
    distance, settled = _bellman_ford(tails, heads, costs, np.zeros(left + right + 1, dtype=np.int64))
    if not settled:
        raise AssertionError("a negative cycle in the shortlist's residual graph: the flow was not optimal")
    reduced = distance[:left, None] - problem.weight
    reduced -= distance[None, left:left + right]
    return reduced


def _residual_arcs(problem: Problem, arcs: _Arcs, flow: np.ndarray):
    left, right = problem.shape
    sink = left + right
    load = np.bincount(arcs.cols, flow, minlength=right)
    filled = np.bincount(arcs.rows, flow, minlength=left)
    free = flow < problem.size[arcs.rows]
    used = flow > 0
    open_right = np.flatnonzero(load < problem.capacity)
    busy_right = np.flatnonzero(load > 0)
    tails = [arcs.rows[free], left + arcs.cols[used], left + open_right, np.full(len(busy_right), sink)]
    heads = [left + arcs.cols[free], arcs.rows[used], np.full(len(open_right), sink), left + busy_right]
    costs = [-arcs.weights[free], arcs.weights[used],
             np.zeros(len(open_right), dtype=np.int64), np.zeros(len(busy_right), dtype=np.int64)]
    if not problem.exact:
        # the bypass i → sink carries the slots left empty: it can take more while i has pairs, give back while empty
        has_pairs = np.flatnonzero(filled > 0)
        has_empty = np.flatnonzero(filled < problem.slots)
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
    network = _network(problem, _Arcs.of(problem, problem.allowed))
    network.solve_max_flow_with_min_cost()
    shortfall = int(problem.slots.sum() - network.maximum_flow())
    return Solution(pairs=[], objective=0, optimal=True, shortfall=shortfall,
                    solve_seconds=time.perf_counter() - started, unfillable=unfillable)
