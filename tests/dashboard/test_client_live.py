"""client/ against the real backend of the dashboard's live stack: SIWE sign-in with a key
the caller holds (anvil's unlocked accounts sign), typed answers, the backend's own refusals
mapped to BackendError, blocking and asyncio. Nothing here changes what the other dashboard
tests see: no license is minted, no application reviewed."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from client import AsyncBackendClient, BackendClient, BackendError, EventFilters, Signer
from noderr.domain import NodeType
from tests.dashboard.conftest import LiveStack

CHAIN_ID = 31337
NEWCOMER_ACCOUNT = 7  # no role, no license, not an applicant


def signer(live: LiveStack, address: str) -> Signer:
    """`personal_sign` by anvil's unlocked account: the key never leaves the node."""
    def sign(message: str) -> str:
        answer = live.w3.provider.make_request(
            "personal_sign", ["0x" + message.encode().hex(), address])
        return answer["result"]

    return sign


def refusal(call: Callable[[], object]) -> BackendError:
    with pytest.raises(BackendError) as caught:
        call()
    return caught.value


def test_blocking__sign_in_me_refusals_logout(live: LiveStack):
    address = live.w3.eth.accounts[NEWCOMER_ACCOUNT]
    with BackendClient(live.services.api_url) as client:
        assert client.readiness().ready
        session = client.sign_in(address, CHAIN_ID, signer(live, address))
        me = client.me()
        assert me.address == session.address == address
        assert (me.licenses, me.roles) == ([], [])
        assert refusal(client.nodes_me).status == 403
        assert refusal(lambda: client.list_secrets(999)).status == 404
        assert refusal(client.applications).status == 403
        client.logout()
        error = refusal(client.me)
        assert error.status == 401 and str(error).startswith("backend answered 401: ")


def test_blocking__validation_error__backend_detail_surfaced(live: LiveStack):
    """The backend writes its 422 detail itself (`loc: msg`): shown as it is."""
    address = live.admin
    app_id = live.seeded[0][1]
    with BackendClient(live.services.api_url) as client:
        client.sign_in(address, CHAIN_ID, signer(live, address))
        error = refusal(lambda: client.approve(app_id, ""))
    assert str(error) == ("backend answered 422: body.note: String should have at least 1 "
                          "character")


def test_asyncio__admin_reads_typed_answers(live: LiveStack):
    async def read() -> tuple:
        async with AsyncBackendClient(live.services.api_url) as client:
            await client.sign_in(live.admin, CHAIN_ID, signer(live, live.admin))
            me = await client.me()
            applications = await client.applications()
            detail = await client.application(applications[-1].id)
            page = await client.events(EventFilters(contract="NodeLicense"), limit=5)
            csv = await client.events_csv(EventFilters(event="RoleGranted"), limit=2)
            await client.logout()
            return me, applications, detail, page, csv

    me, applications, detail, page, csv = asyncio.run(read())
    assert {"MINTER_ROLE", "REVOKER_ROLE"} <= set(me.roles)
    seeded = {applicant.name: NodeType(applicant.node_type) for applicant, _ in live.seeded}
    assert {(app.applicant_name, app.node_type) for app in applications} >= seeded.items()
    assert detail.history and detail.answers is not None
    assert len(page.events) == 5 and page.next_cursor
    assert {event.contract_name for event in page.events} == {"NodeLicense"}
    assert csv.splitlines()[0].startswith("block_number,block_timestamp,tx_hash")

