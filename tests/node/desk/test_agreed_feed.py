"""The on-chain price source of the desk (node/desk/agreed_feed.py) against a fake AggregatorV3
reader on a fake clock: each new round is one bar at its answer scaled by the feed's decimals,
a repeated or carried-over round is none, and a feed without a new round for more than k
periods (or unreadable that long, or answering no price) ends the bars with the reason."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from node.desk.agreed_feed import (
    POLLS_PER_PERIOD,
    AgreedFeed,
    FeedUnreadable,
    RoundData,
)
from node.desk.desk import PaperDesk, run_feed
from node.desk.portfolio import Portfolio
from tests.node.desk.builders import FLAT_BOOK, ScriptedStrategy, SpyGate, SpyVenue

PERIOD_S = 2.0
POLL_S = PERIOD_S / POLLS_PER_PERIOD
LANDED_AT = 1_800_000_000


def landed(round_id: int, answer: int) -> RoundData:
    return RoundData(round_id, answer, LANDED_AT + round_id - 1, LANDED_AT + round_id,
                     round_id)


class FakeFeed:
    """A feed whose latest round changes at given poll numbers (the first read is poll 0);
    an exception in place of a round is raised by that read. Its clock moves only by `wait`."""

    def __init__(self, script: dict[int, RoundData | Exception],
                 end_after_polls: int | None = None) -> None:
        self.script, self.end_after_polls = script, end_after_polls
        self.now, self.polls = 0.0, 0
        self.latest: RoundData | Exception = FeedUnreadable("NodeFeed: no data present")

    def read(self) -> RoundData:
        self.latest = self.script.get(self.polls, self.latest)
        self.polls += 1
        if isinstance(self.latest, Exception):
            raise self.latest
        return self.latest

    def wait(self, seconds: float) -> bool:
        self.now += seconds
        return self.end_after_polls is not None and self.polls >= self.end_after_polls

    def agreed(self, stale_periods: int = 3, decimals: int = 8) -> AgreedFeed:
        return AgreedFeed(self.read, decimals, PERIOD_S, lambda: self.now, stale_periods)


def test_bars__new_rounds__one_bar_each_at_the_answer_scaled_and_the_time_it_landed():
    fake = FakeFeed({0: landed(10, 145_000_000_000), 4: landed(11, 145_812_000_000),
                     8: landed(12, 145_799_999_999), 12: landed(13, 146_000_000_001)})

    bars = list(fake.agreed().bars(fake.wait, rounds=3))

    assert [(bar.round_id, bar.answer, bar.price) for bar in bars] == [
        (11, 145_812_000_000, Decimal("1458.12000000")),
        (12, 145_799_999_999, Decimal("1457.99999999")),
        (13, 146_000_000_001, Decimal("1460.00000001"))]
    assert bars[0].at == datetime.fromtimestamp(LANDED_AT + 11, UTC)
    assert fake.polls == 13, "no poll after the last round asked for"


def test_bars__round_there_at_start_or_repeated__not_a_new_bar():
    fake = FakeFeed({0: landed(10, 100), 2: landed(11, 110), 3: landed(10, 100),
                     5: landed(12, 120)}, end_after_polls=7)

    bars = list(fake.agreed().bars(fake.wait))

    assert [bar.round_id for bar in bars] == [11, 12]


def test_bars__round_carried_over__not_a_new_bar():
    carried = RoundData(11, 100, LANDED_AT, LANDED_AT, answered_in_round=10)
    fake = FakeFeed({0: landed(10, 100), 1: carried, 3: landed(12, 120)}, end_after_polls=5)

    assert [bar.round_id for bar in fake.agreed().bars(fake.wait)] == [12]


def test_bars__no_new_round_for_more_than_k_periods__end_saying_the_feed_is_stale():
    fake = FakeFeed({0: landed(10, 100), 2: landed(11, 110)})
    agreed = fake.agreed(stale_periods=3)

    bars = list(agreed.bars(fake.wait))

    assert [bar.round_id for bar in bars] == [11]
    assert fake.now == pytest.approx(2 * POLL_S + 3 * PERIOD_S + POLL_S), \
        "the first poll past 3 periods after round 11 ends it, not one before"
    assert agreed.stopped == ("the feed is stale: no new round for more than 3 periods of 2 s "
                              "(last round 11); no order sent after it")


def test_bars__chain_unreadable_for_more_than_k_periods__stale_with_the_read_error():
    fake = FakeFeed({0: landed(10, 100), 2: FeedUnreadable("no JSON-RPC answer")})
    agreed = fake.agreed(stale_periods=2)

    assert list(agreed.bars(fake.wait)) == []
    assert agreed.stopped is not None and agreed.stopped.startswith("the feed is stale")
    assert agreed.stopped.endswith("(last round 10); the last read failed: no JSON-RPC "
                                   "answer; no order sent after it")


def test_bars__feed_without_data_that_gets_its_first_round__that_round_is_a_bar():
    fake = FakeFeed({3: landed(1, 100)}, end_after_polls=5)

    assert [bar.round_id for bar in fake.agreed().bars(fake.wait)] == [1]


def test_bars__round_answering_no_price__end_without_a_bar():
    fake = FakeFeed({0: landed(10, 100), 1: landed(11, 0), 2: landed(12, 120)},
                    end_after_polls=4)
    agreed = fake.agreed()

    assert list(agreed.bars(fake.wait)) == []
    assert agreed.stopped == "round 11 answered 0, not a price: no order on it or after it"


def test_bars__wait_says_the_run_ends__no_more_bars_and_not_stale():
    fake = FakeFeed({0: landed(10, 100), 1: landed(11, 110), 3: landed(12, 120)},
                    end_after_polls=2)
    agreed = fake.agreed()

    assert [bar.round_id for bar in agreed.bars(fake.wait)] == [11]
    assert agreed.stopped is None


def test_desk__fed_the_agreed_bars__marks_and_decides_at_the_on_chain_answers():
    fake = FakeFeed({0: landed(10, 10_000_000_000), 1: landed(11, 10_012_345_678),
                     2: landed(12, 9_998_765_432)})
    gate = SpyGate()
    desk = PaperDesk(SpyVenue(fee_bps=0, book_profile=FLAT_BOOK), Portfolio(100_000),
                     ScriptedStrategy([[("buy", "5")], [("sell", "5")]]), gate)

    steps = run_feed(desk, "SP500", ((bar.at, bar.price)
                                     for bar in fake.agreed().bars(fake.wait, rounds=2)))

    assert [context.price for context in gate.contexts] == [100.12345678, 99.98765432]
    assert desk.marks["SP500"] == Decimal("99.98765432")
    assert [point.at for point in desk.equity_curve] == [
        datetime.fromtimestamp(LANDED_AT + round_id, UTC) for round_id in (11, 12)]
    assert [len(step.fills) for step in steps] == [1, 1]
