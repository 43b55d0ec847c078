"""PAPER trading records in the backend and the emergency halt's mirror, on real anvil and
PostgreSQL: records of a licensed desk stored all or none and read back (positions worked out
by hand from the fills), and /network/guard following NodeGuard's Halted and Resumed events
as they are indexed."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient

from backend.api.app import create_app
from client import endpoints
from noderr.halt_report import GUARD_CONTRACT, Halt, halt_args, sign_halt
from tests.backend.helpers import ADMIN, bearer, sign_in
from tests.backend.siwe_helpers import KEYS
from tests.backend.test_cost_limits import TIGHT, assert_limited

ORACLE, GUARDIAN = 1, 2
DESK, OTHER_DESK, NOBODY = KEYS[1].address, KEYS[2].address, KEYS[3].address
GUARDIANS = KEYS[4:7]
START = datetime(2008, 9, 15, 20, tzinfo=UTC)


def at(step: int) -> str:
    return (START + timedelta(days=step)).isoformat()


def order(order_id, side="buy", quantity="1", instrument="SP500", step=0, limit_price=None):
    return {"id": order_id, "instrument": instrument, "side": side, "quantity": quantity,
            "created_at": at(step), "order_type": "market" if limit_price is None else "limit",
            "time_in_force": "IOC" if limit_price is None else "GTC",
            "limit_price": limit_price}


def sent(order_id, **fields):
    return {"kind": "order", **order(order_id, **fields)}


def fill(order_id, quantity, price, side="buy", instrument="SP500", fee="0.1", step=0):
    return {"kind": "fill", "order_id": order_id, "instrument": instrument, "side": side,
            "quantity": quantity, "price": price, "fee": fee,
            "notional": str(Decimal(quantity) * Decimal(price)), "at": at(step)}


def refused(order_id, check="notional", value=2e6, limit=1e6, reason="notional over limit",
            **fields):
    return {"kind": "rejection", "order": order(order_id, **fields), "check": check,
            "value": value, "limit": limit, "reason": reason, "at": at(fields.get("step", 0))}


def point(step, cash="1000", market_value="10", realized="3", unrealized="8", fees="1"):
    equity = str(Decimal(cash) + Decimal(market_value))
    return {"kind": "equity", "at": at(step), "cash": cash, "market_value": market_value,
            "equity": equity, "realized_pnl": realized, "unrealized_pnl": unrealized,
            "fees": fees}


def post(client, headers, records, run_id="run-1"):
    return client.post("/trading/records", headers=headers,
                       json={"run_id": run_id, "records": records})


def stored(db) -> tuple[int, ...]:
    return db.execute(
        "SELECT (SELECT count(*) FROM trading_orders), (SELECT count(*) FROM trading_fills), "
        "(SELECT count(*) FROM trading_rejections), (SELECT count(*) FROM trading_equity), "
        "(SELECT count(*) FROM trading_positions)").fetchone()


@pytest.fixture
def desk(client, ops):
    ops.mint(DESK, ORACLE)
    ops.index()
    return bearer(sign_in(client, 1))


def amounts(item, *names):
    return tuple(Decimal(item[name]) for name in names)


# storing
RUN = [
    sent("o1", quantity="2"), fill("o1", "1", "100"), fill("o1", "1", "110"),
    sent("o2", side="sell", quantity="3", step=1), fill("o2", "3", "120", side="sell", step=1),
    sent("o3", quantity="1.5", instrument="EURUSD", step=1),
    fill("o3", "0.5", "1.1", instrument="EURUSD", step=1),
    sent("o4", quantity="1", step=2, limit_price="90"),
    refused("o5", quantity="50", step=2),
    point(0), point(1, cash="900"), point(2, cash="950"),
]


def test_records__stored__positions_by_average_cost_worked_by_hand(client, desk, db):
    response = post(client, desk, RUN)
    assert response.status_code == 200, response.text
    assert response.json() == {"orders": 4, "rejections": 1, "fills": 4, "equity_points": 3}
    positions = {item["instrument"]: item for item in client.get("/trading/positions").json()}
    # SP500: bought 1 @ 100 and 1 @ 110 (cost 210, average 105); sold 3 @ 120: the 2 held
    # close for 240 - 210 = 30 realized, and 1 opens short at 120 (cost -120).
    assert amounts(positions["SP500"], "quantity", "average_price", "cost", "realized_pnl") \
        == (Decimal(-1), Decimal(120), Decimal(-120), Decimal(30))
    assert amounts(positions["EURUSD"], "quantity", "average_price", "realized_pnl") \
        == (Decimal("0.5"), Decimal("1.1"), Decimal(0))
    assert {item["desk"] for item in positions.values()} == {DESK}
    assert (positions["SP500"]["fills"], positions["SP500"]["run_id"]) == (3, "run-1")


def test_records__orders_carry_status_fill_and_refusal(client, desk):
    post(client, desk, RUN)
    items = {item["order_id"]: item for item in client.get("/trading/orders").json()["items"]}
    assert {name: item["status"] for name, item in items.items()} == {
        "o1": "filled", "o2": "filled", "o3": "partially_filled", "o4": "sent",
        "o5": "rejected"}
    assert Decimal(items["o3"]["filled_quantity"]) == Decimal("0.5")
    assert (items["o4"]["order_type"], items["o4"]["time_in_force"],
            Decimal(items["o4"]["limit_price"])) == ("limit", "GTC", Decimal(90))
    rejection = items["o5"]["rejection"]
    assert datetime.fromisoformat(rejection.pop("at")) == datetime.fromisoformat(at(2))
    assert rejection == {"check": "notional", "value": 2e6, "limit": 1e6,
                         "reason": "notional over limit"}
    assert items["o1"]["rejection"] is None


def test_records__fill_in_a_later_batch__updates_its_order_and_position(client, desk):
    post(client, desk, [sent("o1", quantity="2")])
    assert client.get("/trading/positions").json() == []
    assert post(client, desk, [fill("o1", "2", "50")]).status_code == 200
    (item,) = client.get("/trading/orders").json()["items"]
    assert item["status"] == "filled"
    (position,) = client.get("/trading/positions").json()
    assert amounts(position, "quantity", "average_price") == (Decimal(2), Decimal(50))


def test_records__closed_position__not_listed(client, desk):
    post(client, desk, [sent("o1"), fill("o1", "1", "10"), sent("o2", side="sell"),
                        fill("o2", "1", "12", side="sell")])
    assert client.get("/trading/positions").json() == []


def test_records__runs_and_desks_kept_apart(client, ops, desk):
    ops.mint(OTHER_DESK, GUARDIAN)
    ops.index()
    other = bearer(sign_in(client, 2))
    post(client, desk, [sent("o1"), fill("o1", "1", "10")])
    post(client, desk, [sent("o1"), fill("o1", "1", "20")], run_id="run-2")
    post(client, other, [sent("o1"), fill("o1", "1", "30")])
    positions = client.get("/trading/positions").json()
    assert {(item["desk"], item["run_id"], Decimal(item["average_price"]))
            for item in positions} == {(DESK, "run-1", 10), (DESK, "run-2", 20),
                                       (OTHER_DESK, "run-1", 30)}
    assert len(client.get("/trading/positions", params={"desk": DESK.lower()}).json()) == 2
    assert len(client.get("/trading/positions", params={"run": "run-2"}).json()) == 1


# refusals
def test_records__no_active_license__403_nothing_stored(client, ops, db):
    token_id = ops.mint(DESK, ORACLE)
    ops.suspend(token_id)
    ops.index()
    for headers in (bearer(sign_in(client, 1)), bearer(sign_in(client, 3))):
        assert post(client, headers, RUN).status_code == 403
    assert stored(db) == (0, 0, 0, 0, 0)


def test_records__no_session__401(client):
    assert post(client, {}, RUN).status_code == 401


@pytest.mark.parametrize(("records", "index", "words"), [
    ([sent("o1"), fill("o9", "1", "10")], 1, "no order 'o9'"),
    ([fill("o5", "1", "10"), refused("o5")], 0, "was refused"),
    ([sent("o1"), fill("o1", "2", "10")], 1, "over its quantity"),
    ([sent("o1"), fill("o1", "1", "10", side="sell")], 1, "a buy of SP500"),
    ([sent("o1"), sent("o1")], 1, "twice in the batch"),
    ([point(1), point(1)], 1, "twice in the batch"),
])
def test_records__contradicted_record__422_naming_it_nothing_stored(client, desk, db, records,
                                                                      index, words):
    response = post(client, desk, records)
    assert response.status_code == 422, response.text
    (error,) = response.json()["errors"]
    assert error["loc"] == ["body", "records", index] and words in error["msg"], error
    assert stored(db) == (0, 0, 0, 0, 0)


@pytest.mark.parametrize("bad", [
    {**sent("o1"), "quantity": "-1"},
    {**sent("o1"), "quantity": "NaN"},
    {**sent("o1"), "time_in_force": "GTC"},
    {**sent("o1"), "limit_price": "10"},
    {**sent("o1"), "surplus": 1},
    {**fill("o1", "1", "10"), "notional": "11"},
    {**point(1), "equity": "1"},
    {**point(1), "fees": "-1"},
    {**refused("o2"), "value": "inf"},
    {**sent("o1"), "created_at": "2008-09-15T20:00:00"},
    {"kind": "trade"},
])
def test_records__invalid_record__422_nothing_stored(client, desk, db, bad):
    response = post(client, desk, [sent("o0"), bad])
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["loc"][:3] == ["body", "records", 1]
    assert stored(db) == (0, 0, 0, 0, 0)


@pytest.mark.parametrize("count", [0, 501])
def test_records__batch_size_outside_1_to_500__422(make_client, settings, desk, count):
    roomy = make_client(settings.model_copy(update={"max_body_bytes": 1_000_000}))
    assert post(roomy, desk, [point(step) for step in range(count)]).status_code == 422


@pytest.mark.parametrize("again", [sent("o1"), refused("o1"), point(0)])
def test_records__already_stored__409_nothing_more_stored(client, desk, db, again):
    post(client, desk, [sent("o1"), point(0)])
    response = post(client, desk, [sent("o2"), again])
    assert response.status_code == 409 and "records[1]" in response.json()["detail"]
    assert stored(db)[0] == 1


# reading
def test_orders__filters_and_cursor_pages(client, ops, desk):
    ops.mint(OTHER_DESK, GUARDIAN)
    ops.index()
    post(client, desk, [sent(f"o{step}", step=step) for step in range(5)]
         + [refused("r1", instrument="EURUSD", step=9)])
    post(client, bearer(sign_in(client, 2)), [sent("x1", step=7)])
    seen, cursor = [], None
    while True:
        page = client.get("/trading/orders", params={
            "limit": 2, "desk": DESK, "instrument": "SP500", **({"cursor": cursor} if cursor
                                                                else {})}).json()
        seen += [item["order_id"] for item in page["items"]]
        if (cursor := page["next_cursor"]) is None:
            break
    assert seen == ["o4", "o3", "o2", "o1", "o0"]
    rejected = client.get("/trading/orders", params={"status": "rejected"}).json()["items"]
    assert [item["order_id"] for item in rejected] == ["r1"]
    others = client.get("/trading/orders", params={"desk": OTHER_DESK}).json()["items"]
    assert [item["order_id"] for item in others] == ["x1"]


@pytest.mark.parametrize(("params", "status"), [
    ({"limit": 0}, 422), ({"limit": 1001}, 422), ({"cursor": "nonsense"}, 400),
    ({"desk": "0x12"}, 422), ({"status": "open"}, 422), ({"instrument": "S P"}, 422),
])
def test_orders__bad_filter__4xx(client, params, status):
    assert client.get("/trading/orders", params=params).status_code == status


def test_pnl__latest_points_oldest_first_by_desk(client, desk):
    post(client, desk, [point(step, cash=str(1000 + step)) for step in range(5)])
    curve = client.get("/trading/pnl", params={"limit": 3, "desk": DESK}).json()
    assert [(datetime.fromisoformat(item["at"]), Decimal(item["equity"])) for item in curve] \
        == [(START + timedelta(days=step), Decimal(1010 + step)) for step in (2, 3, 4)]
    assert amounts(curve[0], "realized_pnl", "unrealized_pnl", "fees") \
        == (Decimal(3), Decimal(8), Decimal(1))
    assert client.get("/trading/pnl", params={"desk": OTHER_DESK}).json() == []


@pytest.mark.parametrize("path", ["/trading/positions", "/trading/orders", "/trading/pnl",
                                  "/network/guard"])
def test_public_reads__anonymous_and_limited_per_client(make_client, settings, path):
    tight = make_client(settings.model_copy(update=TIGHT))
    assert [tight.get(path).status_code for _ in range(4)] == [200] * 4
    assert_limited(tight.get(path))


# the halt
@pytest.fixture
def guard(w3, deployment):
    record = deployment.contracts[GUARD_CONTRACT]
    return w3.eth.contract(address=record.address, abi=record.abi)


@pytest.fixture
def guardians(ops):
    for key in GUARDIANS:
        ops.mint(key.address, GUARDIAN)
    return GUARDIANS


def halt(ops, guard, keys, reason: str) -> dict:
    """A halt signed by `keys`, sent by anvil #0."""
    deadline = ops.w3.eth.get_block("latest")["timestamp"] + 3600
    signed = Halt(reason, deadline, guard.functions.halt_nonce().call())
    signatures = {key.address: sign_halt(key.key, ops.deployment.chain_id, guard.address,
                                         signed) for key in keys}
    return ops.send(guard.functions.halt(*halt_args(signed, signatures)), sender=ADMIN)


def guard_state(client) -> dict:
    response = client.get("/network/guard")
    assert response.status_code == 200, response.text
    return response.json()


def test_guard__at_start__not_halted(client, ops, guard):
    indexed = ops.index()
    assert guard_state(client) == {
        "guard": guard.address, "halted": False, "nonce": 0, "reason": None, "signers": [],
        "block": None, "since": None, "indexed_block": indexed}


def test_guard__quorum_halt_indexed__halted_with_reason_and_signers(client, ops, guard,
                                                                    guardians):
    receipt = halt(ops, guard, guardians[:2], "drawdown 25% over limit 20%")
    assert not guard_state(client)["halted"]  # not indexed yet
    ops.index()
    state = guard_state(client)
    block = ops.w3.eth.get_block(receipt["blockNumber"])
    assert {name: state[name] for name in ("halted", "nonce", "reason", "signers", "block")} \
        == {"halted": True, "nonce": 1, "reason": "drawdown 25% over limit 20%",
            "signers": sorted((key.address for key in guardians[:2]), key=lambda a: int(a, 16)),
            "block": receipt["blockNumber"]}
    assert datetime.fromisoformat(state["since"]).timestamp() == block["timestamp"]


def test_guard__resumed_by_governance__not_halted_nonce_kept(client, ops, guard, guardians):
    halt(ops, guard, guardians[:2], "VaR over limit")
    receipt = ops.govern(guard.functions.resume())
    ops.index()
    state = guard_state(client)
    assert (state["halted"], state["nonce"], state["reason"], state["signers"],
            state["block"]) == (False, 1, None, [], receipt["blockNumber"])
    halt(ops, guard, guardians[1:], "halted again")
    ops.index()
    assert (guard_state(client)["halted"], guard_state(client)["nonce"]) == (True, 2)


def test_guard__no_guard_in_the_deployment__404(make_client, settings, chain, database_url):
    rpc_url, deployment = chain
    bare = deployment.model_copy(update={"contracts": {
        name: record for name, record in deployment.contracts.items()
        if name != GUARD_CONTRACT}})
    with TestClient(create_app(settings, bare, database_url, rpc_url)) as client:
        assert client.get("/network/guard").status_code == 404


# the typed client's calls read the real answers
def answer(client, call, headers=None):
    response = client.request(call.method, call.path, params=call.params, json=call.body,
                              headers=headers)
    return call.answer(response)


def test_client_calls__read_the_backends_answers(client, ops, desk, guard):
    (batch,) = endpoints.record_trading("run-1", RUN)
    counts = answer(client, batch, desk)
    assert (counts.orders, counts.rejections, counts.fills, counts.equity_points) \
        == (4, 1, 4, 3)
    positions = answer(client, endpoints.trading_positions(DESK, "run-1", 10))
    assert {(item.instrument, item.quantity) for item in positions} \
        == {("SP500", Decimal(-1)), ("EURUSD", Decimal("0.5"))}
    page = answer(client, endpoints.trading_orders(DESK, "SP500", "filled", 1, None))
    assert [item.order_id for item in page.items] == ["o2"] and page.next_cursor
    curve = answer(client, endpoints.trading_pnl(DESK, None, 2))
    assert [point.cash for point in curve] == [Decimal(900), Decimal(950)]
    state = answer(client, endpoints.network_guard())
    assert (state.guard, state.halted, state.nonce) == (guard.address, False, 0)


def test_client_record_trading__batches_within_500_records_and_the_body_limit():
    small = [{"kind": "equity", "n": index} for index in range(1203)]
    assert [len(call.body["records"]) for call in endpoints.record_trading("r", small)] \
        == [500, 500, 203]
    points = [point(step) for step in range(1203)]
    calls = endpoints.record_trading("r", points)
    assert [record for call in calls for record in call.body["records"]] == points
    assert all(len(json.dumps(call.body)) < 65_536 for call in calls)
