from __future__ import annotations

from decimal import Decimal

import pytest

from node.desk.records import Order
from node.desk.venue import SimulatedVenue
from node.errors import InvalidParameter, UnknownInstrument
from tests.node.desk.builders import AT, FLAT_BOOK, day, market


def test_submit__market_buy_within_the_touch_pays_the_ask_and_the_fee(flat_venue):
    fills = flat_venue.submit(market("o-1", "buy", "5"))

    # 5 units at the ask 100.01 = 500.05; 10 bps of it = 0.50005
    assert [(f.quantity, f.price, f.notional, f.fee) for f in fills] == [
        (Decimal("5"), Decimal("100.01"), Decimal("500.05"), Decimal("0.50005"))]


def test_submit__market_sell_across_levels_fills_each_level_and_pays_fees_on_each(flat_venue):
    fills = flat_venue.submit(market("o-1", "sell", "25"))

    assert [(f.quantity, f.price) for f in fills] == [
        (Decimal(10), Decimal("100.00")), (Decimal(10), Decimal("99.99")),
        (Decimal(5), Decimal("99.98"))]
    # 1000.00 + 999.90 + 499.90 = 2499.80 of notional; 10 bps: 1.0 + 0.9999 + 0.4999
    assert sum(f.notional for f in fills) == Decimal("2499.80")
    assert sum(f.fee for f in fills) == Decimal("2.4998")


def test_submit__market_order_larger_than_the_book_fills_in_part_and_cancels_the_rest(
        flat_venue):
    fills = flat_venue.submit(market("o-1", "buy", "150"))

    assert sum(f.quantity for f in fills) == Decimal(100)
    assert fills[-1].price == Decimal("100.10")
    assert flat_venue.open_orders() == ()


def test_submit__limit_order_takes_the_levels_within_its_price_and_rests_the_rest(flat_venue):
    order = Order("o-1", "SP500", "buy", Decimal(150), AT, "limit", Decimal("100.03"))

    fills = flat_venue.submit(order)

    assert [f.price for f in fills] == [Decimal("100.01"), Decimal("100.02"), Decimal("100.03")]
    [resting] = flat_venue.open_orders()
    assert (resting.order, resting.remaining) == (order, Decimal(120))


def test_on_price__resting_limit_order_fills_against_the_new_book(flat_venue):
    flat_venue.submit(Order("o-1", "SP500", "buy", Decimal(150), AT, "limit", Decimal("100.03")))

    fills = flat_venue.on_price("SP500", Decimal(99), day(1))

    # the whole new book is below the limit: asks 99.001 .. 99.010 (the tick is 0.001 under
    # 100), each 1,000 / 99 = 10.10101010 units (rounded down)
    level = Decimal("10.10101010")
    assert [f.price for f in fills] == [Decimal("99.001") + Decimal("0.001") * i
                                        for i in range(10)]
    assert {f.quantity for f in fills} == {level}
    assert {f.at for f in fills} == {day(1)}
    assert flat_venue.open_orders()[0].remaining == Decimal(120) - 10 * level


def test_cancel__removes_a_resting_order_once(flat_venue):
    flat_venue.submit(Order("o-1", "SP500", "sell", Decimal(5), AT, "limit", Decimal(101)))

    assert flat_venue.cancel("o-1") is True
    assert flat_venue.cancel("o-1") is False
    assert flat_venue.on_price("SP500", Decimal(102), day(1)) == []


@pytest.mark.parametrize("side", ["buy", "sell"])
def test_submit__slippage_grows_with_the_size_of_the_order(side):
    averages = []
    for size in ("1", "1000", "5000", "20000", "60000"):
        venue = SimulatedVenue(fee_bps=0, seed=3)
        venue.on_price("SP500", Decimal(100), AT)
        fills = venue.submit(market("o-1", side, size))
        averages.append(sum(f.notional for f in fills) / sum(f.quantity for f in fills))
    ordered = averages if side == "buy" else averages[::-1]
    assert ordered == sorted(ordered)
    assert averages[0] != averages[-1]


def test_submit__same_seed_gives_the_same_fills():
    def run(seed: int) -> list:
        venue = SimulatedVenue(seed=seed)
        venue.on_price("SP500", Decimal(1500), AT)
        return [f.to_dict() for f in venue.submit(market("o-1", "buy", "1000"))]

    assert run(7) == run(7)
    assert run(7) != run(8)


def test_submit__order_without_a_feed_value_is_refused():
    with pytest.raises(UnknownInstrument):
        SimulatedVenue().submit(market("o-1", "buy", "1"))


def test_submit__order_id_reused_is_refused(flat_venue):
    flat_venue.submit(market("o-1", "buy", "1"))

    with pytest.raises(InvalidParameter):
        flat_venue.submit(market("o-1", "buy", "1"))


def test_init__negative_fee_is_refused():
    with pytest.raises(InvalidParameter):
        SimulatedVenue(fee_bps=-1, book_profile=FLAT_BOOK)
