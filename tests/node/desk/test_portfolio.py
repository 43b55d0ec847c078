from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from node.desk.portfolio import Portfolio
from node.desk.records import Fill
from node.errors import InvalidParameter, UnknownInstrument
from tests.node.desk.builders import AT, fill


def test_apply__buys_then_a_partial_sell_book_cash_average_and_realized_pnl():
    book = Portfolio(100_000)
    book.apply(fill("buy", "10", "100", fee="1"))
    book.apply(fill("buy", "10", "110", fee="1"))

    held = book.positions["SP500"]
    assert (held.quantity, held.cost, held.average_price) == (20, 2100, 105)
    assert book.cash == Decimal(100_000 - 1_000 - 1 - 1_100 - 1)

    book.apply(fill("sell", "15", "120", fee="2"))

    # 15 * 120 = 1800 proceeds against 15/20 of the 2100 cost = 1575
    assert book.realized_pnl == Decimal(225)
    assert (book.position("SP500"), book.positions["SP500"].cost) == (5, 525)
    assert book.cash == Decimal(97_898 + 1_800 - 2)
    assert book.fees == Decimal(4)


def test_equity__is_cash_plus_positions_at_their_marks():
    book = Portfolio(100_000)
    for args in (("buy", "10", "100", "1"), ("buy", "10", "110", "1"),
                 ("sell", "15", "120", "2")):
        book.apply(fill(*args))

    marks = {"SP500": Decimal(130)}
    assert book.market_value(marks) == Decimal(650)
    assert book.equity(marks) == Decimal(99_696 + 650)
    assert book.unrealized_pnl(marks) == Decimal(650 - 525)
    assert book.equity(marks) - book.initial_cash == (
        book.realized_pnl + book.unrealized_pnl(marks) - book.fees)


def test_apply__short_round_trip_realizes_the_fall():
    book = Portfolio(10_000)
    book.apply(fill("sell", "10", "50"))
    book.apply(fill("buy", "10", "40"))

    assert book.realized_pnl == Decimal(100)
    assert book.positions == {}
    assert book.cash == Decimal(10_100)


def test_apply__fill_through_zero_closes_then_opens_at_the_fill_price():
    book = Portfolio(10_000)
    book.apply(fill("buy", "5", "105"))
    book.apply(fill("sell", "10", "100"))

    held = book.positions["SP500"]
    assert book.realized_pnl == Decimal(-25)
    assert (held.quantity, held.cost, held.average_price) == (-5, -500, 100)


def test_point__records_the_reconciled_account():
    book = Portfolio(1_000)
    book.apply(fill("buy", "2", "100", fee="0.5"))

    point = book.point({"SP500": Decimal(90)}, AT)

    assert (point.cash, point.market_value, point.equity) == (
        Decimal("799.5"), Decimal(180), Decimal("979.5"))
    assert (point.unrealized_pnl, point.fees) == (Decimal(-20), Decimal("0.5"))
    assert point.to_dict()["equity"] == "979.50000000"


def test_equity__open_position_without_a_mark_is_refused():
    book = Portfolio(1_000)
    book.apply(fill("buy", "1", "100"))

    with pytest.raises(UnknownInstrument):
        book.equity({})


def test_init__no_cash_is_refused():
    with pytest.raises(InvalidParameter):
        Portfolio(0)


amounts = st.decimals(min_value=Decimal("0.00000001"), max_value=Decimal(100_000), places=8)
fills = st.lists(st.tuples(st.sampled_from(["SP500", "GOOG"]), st.sampled_from(["buy", "sell"]),
                           amounts, amounts, st.decimals(min_value=0, max_value=100, places=8)),
                 max_size=30)


@given(fills, amounts, amounts)
def test_apply__cash_plus_marked_value_is_conserved_less_fees(trades, sp500, goog):
    book = Portfolio(1_000_000)
    marks = {"SP500": sp500, "GOOG": goog}
    expected = book.initial_cash
    for instrument, side, quantity, price, fee in trades:
        traded = Fill("o", instrument, side, quantity, price, fee, AT)
        book.apply(traded)
        expected += traded.signed_quantity * (marks[instrument] - price) - fee

    assert book.equity(marks) == expected
    assert book.equity(marks) - book.initial_cash == (
        book.realized_pnl + book.unrealized_pnl(marks) - book.fees)
