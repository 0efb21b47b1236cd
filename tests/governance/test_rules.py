"""Both allocation rules on small worked examples whose results are known."""
from __future__ import annotations

from webapp.governance.models import AllocationRule as R
from webapp.governance.tally import allocate

# The example that shows what proportionality means (Peters & Skowron, "Proportionality and the limits of
# welfarism"; equalshares.net's first example): 10 voters, budget 100. Six want A (60) and B (40); four want C (40).
COSTS = {1: 60, 2: 40, 3: 40}
BALLOTS = [[1, 2]] * 6 + [[3]] * 4


def test_greedy_funds_the_majoritys_two_projects():
    # A and B have 6 votes each, C 4: most votes first fills the budget with the majority's projects
    assert allocate(R.GREEDY, 100, COSTS, BALLOTS) == {1, 2}


def test_equal_shares_gives_the_forty_per_cent_their_share():
    # each voter controls 10: the six pay A (6 x 10 = 60) and have nothing left for B; the four pay C (4 x 10)
    assert allocate(R.EQUAL_SHARES, 100, COSTS, BALLOTS) == {1, 3}


def test_greedy_skips_a_project_that_no_longer_fits_and_goes_on():
    # A (3 votes, 3) first; B (2 votes, 2) no longer fits in the 1 left; C (1 vote, 1) does
    costs = {1: 3, 2: 2, 3: 1}
    assert allocate(R.GREEDY, 4, costs, [[1], [1], [1, 2], [2, 3]]) == {1, 3}


def test_equal_shares_completes_what_the_shares_leave_unspent():
    # 5 voters, budget 4 (0.8 each): nothing is affordable from the shares at first; raising them buys A,
    # the completion then finds nothing else that fits
    assert allocate(R.EQUAL_SHARES, 4, {1: 3, 2: 2, 3: 2}, [[1], [1], [1, 2], [3], [2, 3]]) == {1}


def test_a_tie_goes_to_the_earlier_proposal():
    assert allocate(R.GREEDY, 50, {7: 50, 12: 50}, [[7], [12]]) == {7}
    assert allocate(R.GREEDY, 50, {12: 50, 7: 50}, [[12], [7]]) == {7}


def test_no_ballot_funds_nothing():
    assert allocate(R.GREEDY, 100, COSTS, []) == set()
    assert allocate(R.EQUAL_SHARES, 100, COSTS, []) == set()


def test_a_project_nobody_chose_is_never_funded_even_when_it_fits():
    assert allocate(R.GREEDY, 100, {1: 10, 2: 10}, [[1]]) == {1}
    assert allocate(R.EQUAL_SHARES, 100, {1: 10, 2: 10}, [[1]]) == {1}
