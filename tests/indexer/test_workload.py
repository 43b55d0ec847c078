"""A random workload of license operations and governance, then `--once`: every projection
equals the truth computed independently from eth_getLogs and view calls."""

from __future__ import annotations

from tests.indexer import truth
from tests.indexer.helpers import Workload, index_once, rows


def _projected(database_url: str) -> dict:
    licenses = {int(r[0]): tuple(r[1:]) for r in rows(
        database_url, "SELECT token_id, owner, node_type, status, minted_block, application_id"
        " FROM licenses")}
    roles = set(rows(database_url, "SELECT contract_address, role, account FROM role_members"))
    proposals = {int(r[0]): (r[1], r[2], *(int(v) for v in r[3:8]),
                             None if r[8] is None else int(r[8])) for r in rows(
        database_url, "SELECT proposal_id, proposer, state, votes_against, votes_for,"
        " votes_abstain, snapshot, deadline, eta FROM proposals")}
    votes = {(int(p), v, int(t), s, int(w)) for p, v, t, s, w in rows(
        database_url, "SELECT proposal_id, voter, token_id, support, weight FROM votes")}
    return {"licenses": licenses, "roles": roles, "proposals": proposals, "votes": votes}


def _truth(stack) -> dict:
    return {"licenses": truth.licenses(stack), "roles": truth.role_members(stack),
            "proposals": truth.proposals(stack), "votes": truth.votes(stack)}


def test_random_workload__projections_equal_chain_truth(stack, database_url):
    work = Workload(stack, seed=3)
    for node_type, holder in zip([3, 3, 3], work.holders[:3], strict=True):
        work.mint(holder, node_type)
    index_once(stack.rpc_url, database_url, stack.deployment)  # a first pass, then more
    for round_ in range(4):
        for _ in range(12):
            work.license_step()
        work.governance_round(cancel=round_ == 2)
        if round_ == 1:
            index_once(stack.rpc_url, database_url, stack.deployment)
    index_once(stack.rpc_url, database_url, stack.deployment)

    expected, projected = _truth(stack), _projected(database_url)
    assert len(expected["licenses"]) >= 10
    statuses = {s for _, _, s, _, _ in expected["licenses"].values()}
    assert "revoked" in statuses and len(statuses) >= 2
    assert expected["proposals"] and expected["votes"]
    assert projected == expected


def test_rebuild__recomputes_projections_from_chain_events_alone(stack, database_url):
    from indexer.projections import Projector, role_names
    from indexer.store import Store

    work = Workload(stack, seed=5)
    for holder in work.holders[:2]:
        work.mint(holder, 3)
    for _ in range(10):
        work.license_step()
    work.governance_round()
    index_once(stack.rpc_url, database_url, stack.deployment)
    before = _projected(database_url)

    import psycopg

    roles = role_names(a for c in stack.deployment.contracts.values() for a in c.abi)
    with psycopg.connect(database_url) as conn:
        conn.execute("UPDATE licenses SET status = 'suspended', owner = 'garbage'")
        conn.execute("DELETE FROM role_members")
        conn.commit()
        Store(conn, stack.deployment.chain_id, Projector(stack.deployment.chain_id, roles),
              5).rebuild()
    assert _projected(database_url) == before == _truth(stack)
