"""Token buckets in memory, on an injected clock: bursts, refill, headers, the two
callers' buckets and the bound on memory."""

from __future__ import annotations

import pytest
from prometheus_client import REGISTRY

from gateway.ratelimit import Decision, MemoryBuckets, Policy, RateLimiter

SLOW = Policy(rate_per_second=2.0, burst=5, name="subject")


class Clock:
    """A monotonic clock the test moves by hand."""

    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


async def test_a_full_bucket_allows_its_burst_then_refuses_until_one_token_refills() -> None:
    buckets = MemoryBuckets()

    decisions = [await buckets.take("alice", SLOW, now=10.0) for _ in range(6)]

    assert [d.allowed for d in decisions] == [True] * 5 + [False]
    assert [d.remaining for d in decisions] == [4, 3, 2, 1, 0, 0]
    assert {d.limit for d in decisions} == {5}
    assert [d.retry_after_seconds for d in decisions] == [0.0] * 5 + [pytest.approx(0.5)]
    assert decisions[-1].reset_seconds == pytest.approx(2.5)  # five tokens at two a second
    assert decisions[0].reset_seconds == pytest.approx(0.5)


async def test_tokens_refill_continuously_at_the_rate_and_never_beyond_the_burst() -> None:
    clock = Clock(0.0)
    buckets = MemoryBuckets(clock=clock)
    for _ in range(5):
        await buckets.take("alice", SLOW)

    clock.now = 0.25  # half a token
    early = await buckets.take("alice", SLOW)
    clock.now = 0.5  # the half token and another half: one whole token
    on_time = await buckets.take("alice", SLOW)
    clock.now = 2.0  # three more tokens
    later = [await buckets.take("alice", SLOW) for _ in range(4)]
    clock.now = 3600.0  # idle for an hour: full, never more
    rested = await buckets.take("alice", SLOW)

    assert not early.allowed
    assert early.retry_after_seconds == pytest.approx(0.25)
    assert on_time.allowed
    assert on_time.remaining == 0
    assert [d.allowed for d in later] == [True, True, True, False]
    assert rested.allowed
    assert rested.remaining == 4


async def test_buckets_of_different_keys_and_policies_are_separate() -> None:
    buckets = MemoryBuckets()
    by_address = Policy(rate_per_second=2.0, burst=5, name="address")
    for _ in range(5):
        await buckets.take("alice", SLOW, now=0.0)

    assert not (await buckets.take("alice", SLOW, now=0.0)).allowed
    assert (await buckets.take("bob", SLOW, now=0.0)).remaining == 4
    assert (await buckets.take("alice", by_address, now=0.0)).remaining == 4


def test_headers_follow_the_ratelimit_fields_draft() -> None:
    allowed = Decision(allowed=True, limit=5, remaining=4, reset_seconds=0.5, retry_after_seconds=0.0)
    refused = Decision(allowed=False, limit=5, remaining=0, reset_seconds=2.2, retry_after_seconds=0.2)

    assert allowed.headers(SLOW) == [
        ("RateLimit", '"subject";r=4;t=1'),
        ("RateLimit-Policy", '"subject";q=5;w=3'),  # five tokens refill in 2.5 s
    ]
    assert refused.headers(SLOW) == [
        ("RateLimit", '"subject";r=0;t=3'),
        ("RateLimit-Policy", '"subject";q=5;w=3'),
        ("Retry-After", "1"),
    ]


def test_header_seconds_round_up_but_ignore_float_noise_and_retry_after_is_at_least_one() -> None:
    policy = Policy(rate_per_second=0.1, burst=30, name="address")
    noisy = Decision(
        allowed=False, limit=30, remaining=0, reset_seconds=300.0000000001, retry_after_seconds=7.01
    )
    instant = Decision(allowed=False, limit=30, remaining=0, reset_seconds=0.0, retry_after_seconds=0.0)

    assert noisy.headers(policy) == [
        ("RateLimit", '"address";r=0;t=300'),
        ("RateLimit-Policy", '"address";q=30;w=300'),
        ("Retry-After", "8"),
    ]
    assert ("Retry-After", "1") in instant.headers(policy)


@pytest.mark.parametrize(
    ("rate", "burst", "name"),
    [
        (0.0, 5, "subject"),
        (float("nan"), 5, "subject"),
        (1.0, 0, "subject"),
        (1.0, 5, 'say "hi"'),
        (1.0, 5, ""),
    ],
)
def test_a_policy_that_cannot_work_or_be_written_in_a_header_is_refused(
    rate: float, burst: int, name: str
) -> None:
    with pytest.raises(ValueError, match="invalid rate-limit policy"):
        Policy(rate_per_second=rate, burst=burst, name=name)


async def test_subject_and_address_are_limited_independently_and_the_stricter_is_reported() -> None:
    subject = Policy(rate_per_second=1.0, burst=2, name="subject")
    address = Policy(rate_per_second=1.0, burst=3, name="address")
    limiter = RateLimiter(None, subject_policy=subject, address_policy=address, clock=Clock())
    office = "203.0.113.7"

    first, second, third = [await limiter.check("alice@acme", office) for _ in range(3)]
    bob_in_the_office, _ = await limiter.check("bob@acme", office)
    bob_at_home = await limiter.check("bob@acme", "198.51.100.4")
    anonymous = await limiter.check(None, "192.0.2.1")

    assert first == (Decision(True, 2, 1, 1.0, 0.0), subject)  # subject has 1 left, address 2
    assert second[0].allowed
    assert second[0].remaining == 0
    assert second[1] is subject
    assert third[0].allowed is False  # alice's own bucket is empty...
    assert third[1] is subject
    assert ("Retry-After", "1") in third[0].headers(third[1])
    assert not bob_in_the_office.allowed  # ...and her three requests emptied the office's
    assert bob_at_home[0].allowed
    assert bob_at_home[0].remaining == 0  # the refused request spent one of his own tokens too
    assert bob_at_home[1] is subject
    assert anonymous == (Decision(True, 3, 2, 1.0, 0.0), address)


async def test_a_refusal_by_either_bucket_wins_over_an_allowance_by_the_other() -> None:
    subject = Policy(rate_per_second=1.0, burst=100, name="subject")
    address = Policy(rate_per_second=1.0, burst=1, name="address")
    limiter = RateLimiter(None, subject_policy=subject, address_policy=address, clock=Clock())

    await limiter.check("alice@acme", "192.0.2.1")
    decision, policy = await limiter.check("alice@acme", "192.0.2.1")

    assert not decision.allowed
    assert policy is address


async def test_without_redis_checks_are_not_counted_as_fallbacks() -> None:
    limiter = RateLimiter(None)
    before = REGISTRY.get_sample_value("stockmesh_gateway_ratelimit_fallback_total")

    for _ in range(3):
        await limiter.check("alice@acme", "192.0.2.1")
    await limiter.close()

    assert REGISTRY.get_sample_value("stockmesh_gateway_ratelimit_fallback_total") == before


async def test_memory_is_bounded_by_forgetting_the_least_recently_used_bucket() -> None:
    buckets = MemoryBuckets(max_keys=3)
    one = Policy(rate_per_second=0.001, burst=1, name="subject")

    await buckets.take("a", one, now=0.0)
    await buckets.take("b", one, now=0.0)
    await buckets.take("c", one, now=0.0)
    a_again = await buckets.take("a", one, now=1.0)  # "a" is now the most recently used
    await buckets.take("d", one, now=2.0)  # a fourth key: "b" goes
    b_again = await buckets.take("b", one, now=3.0)  # forgotten, so full again; "c" goes
    a_still = await buckets.take("a", one, now=4.0)

    assert len(buckets) == 3
    assert not a_again.allowed
    assert b_again.allowed
    assert not a_still.allowed

    for n in range(1000):
        await buckets.take(f"caller-{n}", one, now=5.0)
    assert len(buckets) == 3
