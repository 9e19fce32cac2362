"""The optimal assignment solver against networkx's network simplex, on random instances and the shared ones."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bench.instances import SHARED_INSTANCES, one_row_per_member, read_instance, violations
from portal.matching import Problem, solve


def reference(problem: Problem) -> tuple[int | None, int]:
    """networkx's optimum (None when infeasible) and the largest number of slots any assignment fills."""
    left, right = problem.shape
    graph = nx.DiGraph()
    for i in range(left):
        graph.add_edge("source", ("L", i), capacity=int(problem.need[i]), weight=0)
        if not problem.exact:
            graph.add_edge(("L", i), "sink", capacity=int(problem.need[i]), weight=0)
        for j in range(right):
            if problem.allowed[i, j]:
                graph.add_edge(("L", i), ("R", j), capacity=1, weight=-int(problem.weight[i, j]))
    for j in range(right):
        graph.add_edge(("R", j), "sink", capacity=int(problem.capacity[j]), weight=0)
    total = int(problem.need.sum())
    filled = nx.maximum_flow_value(graph, "source", "sink") if total else 0
    if filled < total:
        return None, filled
    graph.nodes["source"]["demand"], graph.nodes["sink"]["demand"] = -total, total
    cost, _flow = nx.network_simplex(graph)
    return -cost, filled


@st.composite
def problems(draw):
    left, right = draw(st.integers(1, 7)), draw(st.integers(1, 6))
    cells = left * right
    weight = draw(st.lists(st.integers(0, 100), min_size=cells, max_size=cells))
    allowed = draw(st.lists(st.booleans(), min_size=cells, max_size=cells))
    return Problem.build(
        need=draw(st.lists(st.integers(0, 3), min_size=left, max_size=left)),
        capacity=draw(st.lists(st.integers(0, 5), min_size=right, max_size=right)),
        weight=np.array(weight).reshape(left, right), allowed=np.array(allowed).reshape(left, right),
        exact=draw(st.booleans()),
    )


@settings(max_examples=300, deadline=None)
@given(problem=problems(), shortlist=st.integers(1, 3))
def test_the_solver_finds_the_reference_optimum_or_says_how_far_it_is_from_feasible(problem, shortlist):
    optimum, most_filled = reference(problem)
    solution = solve(problem, row_candidates=shortlist, column_candidates=shortlist)
    if optimum is None:
        assert not solution.feasible
        assert solution.pairs == []
        assert solution.shortfall == int(problem.need.sum()) - most_filled
    else:
        assert solution.feasible and solution.optimal
        assert solution.objective == optimum
        assert violations(problem, solution) == []


@st.composite
def grouped_problems(draw):
    """Problems whose left nodes stand for one to three interchangeable members (startups with the same needs)."""
    problem = draw(problems())
    size = draw(st.lists(st.integers(1, 3), min_size=problem.shape[0], max_size=problem.shape[0]))
    return Problem.build(need=problem.need, capacity=problem.capacity, weight=problem.weight,
                         allowed=problem.allowed, exact=problem.exact, size=size)


@settings(max_examples=300, deadline=None)
@given(problem=grouped_problems(), shortlist=st.integers(1, 3))
def test_members_of_one_left_node_get_what_they_would_get_one_by_one(problem, shortlist):
    """The units on a pair are dealt to distinct members: no member gets a right node twice or more than its slots,
    and the total is the optimum of the problem written out member by member."""
    members = one_row_per_member(problem)
    optimum, most_filled = reference(members)
    solution = solve(problem, row_candidates=shortlist, column_candidates=shortlist)
    if optimum is None:
        assert (solution.feasible, solution.pairs) == (False, [])
        assert solution.shortfall == int(members.need.sum()) - most_filled
    else:
        assert solution.objective == optimum
        assert violations(members, solution) == []


def test_a_shortlist_that_misses_the_optimum_is_corrected_by_the_proof():
    """Each application's two best reviewers and each reviewer's best application fill every slot, but badly: the
    third application ends on its worse reviewer. Only the proof finds that the first one's third choice frees the
    best pair overall."""
    weight = np.array([[50, 49, 48], [50, 49, 0], [0, 100, 49]])
    problem = Problem.build(need=[1, 1, 1], capacity=[1, 1, 1], weight=weight, allowed=np.ones((3, 3)))
    solution = solve(problem, row_candidates=2, column_candidates=1)
    assert solution.rounds == 2
    assert solution.objective == reference(problem)[0] == 48 + 50 + 100
    assert sorted(solution.pairs) == [(0, 2), (1, 0), (2, 1)]


def test_conflicts_are_never_assigned_even_when_they_are_the_best_pairs():
    weight = np.array([[100, 1, 1], [100, 1, 1]])
    allowed = np.array([[False, True, True], [True, True, True]])
    solution = solve(Problem.build(need=[2, 2], capacity=[2, 2, 2], weight=weight, allowed=allowed))
    assert (0, 0) not in solution.pairs
    assert {(0, 1), (0, 2), (1, 0)} <= set(solution.pairs)
    assert solution.objective == 103


def test_an_impossible_assignment_says_by_how_much_and_assigns_nothing():
    """Three applications need two reviewers each; two reviewers can take two each: two slots cannot be filled."""
    problem = Problem.build(need=[2, 2, 2], capacity=[2, 2], weight=np.ones((3, 2)), allowed=np.ones((3, 2)))
    solution = solve(problem)
    assert (solution.feasible, solution.shortfall, solution.pairs) == (False, 2, [])


def test_an_application_in_conflict_with_too_many_reviewers_is_named():
    allowed = np.array([[True, True, True], [False, False, True]])
    solution = solve(Problem.build(need=[2, 2], capacity=[5, 5, 5], weight=np.ones((2, 3)), allowed=allowed))
    assert not solution.feasible
    assert solution.unfillable == [1]
    assert solution.shortfall == 1


@pytest.mark.parametrize(("name", "optimum"), [
    ("assignment_small.json.gz", 38_307),
    ("matching_small.json.gz", 20_617),
    ("matching_small_m2.json.gz", 20_641),
])
def test_the_shared_instances_reach_their_published_optimum(name, optimum):
    path = SHARED_INSTANCES / name
    if not path.exists():
        pytest.skip(f"{path} is not beside this checkout")
    instance = read_instance(path)
    solution = solve(instance.problem)
    assert (solution.objective, solution.optimal) == (optimum, True)
    assert violations(instance.problem, solution) == []
