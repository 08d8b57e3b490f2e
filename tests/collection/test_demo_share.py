from billing.collection.demo import AGREEMENT_MAX, agreements_to_sign


def test_demo_agreements_are_one_in_eight_and_bounded_so_their_locks_fit_the_lock_table():
    """Each demo agreement holds an advisory lock until the step commits; at 1M accounts one
    in eight (~19,000) overflowed PostgreSQL's lock table."""
    assert agreements_to_sign(0) == 0
    assert agreements_to_sign(3) == 1
    assert agreements_to_sign(3112) == 389  # the 20,000-account city
    assert agreements_to_sign(155_000) == AGREEMENT_MAX == 2000
