"""Each backend endpoint a client calls, as data: method, path, parameters, and how its answer
is read. The sync and the async client send the same `Call`s; only the sending differs."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, TypeVar
from urllib.parse import quote

import httpx
from pydantic import TypeAdapter

from client import models
from client.errors import refused, unexpected

T = TypeVar("T")


@dataclass(frozen=True)
class Call(Generic[T]):
    """One request and the reading of its answer. `answers_when` lists error statuses whose
    body is still the answer (/readyz says why it is not ready with a 503)."""

    method: str
    path: str
    read: Callable[[httpx.Response], T]
    params: dict[str, Any] = field(default_factory=dict)
    body: dict[str, Any] | None = None
    answers_when: tuple[int, ...] = ()
    timeout: float | None = None
    """Seconds for this request, when the client's default would cut it short (a long poll)."""

    def answer(self, response: httpx.Response) -> T:
        """What the response means, or the BackendError it stands for."""
        failed = response.status_code >= 400
        if failed and response.status_code not in self.answers_when:
            raise refused(response)
        try:
            return self.read(response)
        except ValueError as error:  # not JSON, or JSON of another shape (ValidationError)
            raise (refused(response) if failed else unexpected(response, error)) from None


@dataclass(frozen=True)
class EventFilters:
    """What GET /events can filter on; None means any."""

    contract: str | None = None
    event: str | None = None
    token_id: int | None = None
    address: str | None = None
    from_block: int | None = None
    to_block: int | None = None
    since: datetime | None = None
    until: datetime | None = None

    def params(self) -> dict[str, Any]:
        return query(**self.__dict__)


def query(**params: Any) -> dict[str, Any]:
    """Query parameters without the unset ones (None or empty text)."""
    return {name: value.isoformat() if isinstance(value, datetime) else value
            for name, value in params.items() if value is not None and value != ""}


def json_body(shape: Any, key: str | None = None) -> Callable[[httpx.Response], Any]:
    """A reader validating the JSON body, or its member `key`, as `shape` (a model, or a
    type such as list[Model])."""
    adapter: TypeAdapter[Any] = TypeAdapter(shape)

    def read(response: httpx.Response) -> Any:
        if key is None:
            return adapter.validate_json(response.content)
        body = response.json()
        if not isinstance(body, dict) or key not in body:
            raise ValueError(f"no {key!r} in the answer")
        return adapter.validate_python(body[key])

    return read


def _nothing(response: httpx.Response) -> None:
    return None


def _text(response: httpx.Response) -> str:
    return response.text


def _vault_export(response: httpx.Response) -> models.VaultAuditExport:
    return models.VaultAuditExport(text=response.text,
                                   head=response.headers.get("X-Vault-Audit-Head"))


_nonce = json_body(str, key="nonce")
_session = json_body(models.Session)
_me = json_body(models.Me)
_licensed_node = json_body(models.LicensedNode)
_readiness = json_body(models.Readiness)
_applications = json_body(list[models.Application])
_admissions = json_body(list[models.Admission])
_application = json_body(models.Application)
_application_detail = json_body(models.ApplicationDetail)
_event_page = json_body(models.EventPage)
_licenses = json_body(list[models.License])
_license_detail = json_body(models.LicenseDetail)
_proposals = json_body(list[models.Proposal])
_stored_secret = json_body(models.StoredSecret)
_secret = json_body(models.Secret)
_secret_list = json_body(list[models.SecretSummary], key="secrets")
_deleted_versions = json_body(int, key="deleted_versions")
_license_watch = json_body(models.LicenseWatch)
_heartbeat_ack = json_body(models.HeartbeatAck)
_accepted = json_body(int, key="accepted")
_functions = json_body(list[models.NodeFunction])
_nodes = json_body(list[models.NodeHealth])
_execution_page = json_body(models.ExecutionPage)
_members = json_body(models.Members)
_stored = json_body(int, key="stored")
_round_page = json_body(models.RoundPage)
_message_page = json_body(models.MessagePage)
_record_counts = json_body(models.RecordCounts)
_positions = json_body(list[models.TradingPosition])
_order_page = json_body(models.TradingOrderPage)
_equity_curve = json_body(list[models.EquityPoint])
_guard = json_body(models.GuardState)

WATCH_MARGIN_SECONDS = 10.0
"""How much longer than the watch's own timeout the client waits for its answer."""
MAX_BATCH_RECORDS = 500
MAX_BATCH_ROUNDS = 100
"""Rounds per POST /nodes/rounds: the most the backend takes."""
MAX_BATCH_MESSAGES = 200
"""Consensus messages per POST /nodes/consensus-messages: the most the backend takes."""
MAX_BATCH_BYTES = 60_000
"""Execution or trading records per request: the backend takes at most 500, in a body under
its default NODERR_MAX_BODY_BYTES (65,536) with room for the envelope."""


# auth and node identity
def nonce() -> Call[str]:
    return Call("GET", "/auth/nonce", _nonce)


def verify(message: str, signature: str) -> Call[models.Session]:
    return Call("POST", "/auth/verify", _session,
                body={"message": message, "signature": signature})


def me() -> Call[models.Me]:
    return Call("GET", "/auth/me", _me)


def logout(everywhere: bool) -> Call[None]:
    return Call("POST", "/auth/logout", _nothing, params=query(everywhere=everywhere or None))


def nodes_me() -> Call[models.LicensedNode]:
    return Call("GET", "/nodes/me", _licensed_node)


def watch_licenses(after_block: int | None, timeout_s: float) -> Call[models.LicenseWatch]:
    return Call("GET", "/nodes/me/watch", _license_watch,
                params=query(after_block=after_block, timeout_s=timeout_s),
                timeout=timeout_s + WATCH_MARGIN_SECONDS)


def heartbeat(node_type: int, token_id: int, software_version: str,
              state: models.NodeState) -> Call[models.HeartbeatAck]:
    return Call("POST", "/nodes/heartbeat", _heartbeat_ack, body={
        "node_type": int(node_type), "token_id": token_id,
        "software_version": software_version, "state": state})


def report_executions(node_type: int, token_id: int,
                      executions: Sequence[models.ExecutionRecord]) -> list[Call[int]]:
    """One call per batch of records that fits the backend's limits (none for no record);
    each batch is stored all or none."""
    return [Call("POST", "/nodes/executions", _accepted, body={
        "node_type": int(node_type), "token_id": token_id, "executions": batch})
        for batch in _batches([record.model_dump(mode="json") for record in executions])]


def report_rounds(rounds: Sequence[models.RoundReport]) -> list[Call[int]]:
    """One call per batch of rounds the backend takes (none for no round); each batch is
    stored all or none, and posting a round again stores nothing new."""
    records = [{**item.model_dump(mode="json"), "answer": str(item.answer)} for item in rounds]
    return [Call("POST", "/nodes/rounds", _stored, body={"rounds": batch})
            for batch in _batches(records, MAX_BATCH_ROUNDS)]


def report_messages(messages: Sequence[models.MessageReport]) -> list[Call[int]]:
    """One call per batch of consensus messages the backend takes (none for no message),
    each stored all or none; each answers how many of its messages were new."""
    return [Call("POST", "/nodes/consensus-messages", _stored, body={"messages": batch})
            for batch in _batches([item.model_dump(mode="json") for item in messages],
                                  MAX_BATCH_MESSAGES)]


def record_trading(run_id: str, records: Sequence[Mapping[str, Any]]
                   ) -> list[Call[models.RecordCounts]]:
    """One call per batch of PAPER trading records that fits the backend's limits (none for
    no record), in the order given; each batch is stored all or none. A record is the desk's
    `to_dict()` with its `kind`: "order", "fill", "rejection" or "equity". A fill may be sent
    in the batch of its order or any later one."""
    return [Call("POST", "/trading/records", _record_counts,
                 body={"run_id": run_id, "records": batch})
            for batch in _batches([dict(record) for record in records])]


def _batches(records: list[dict[str, Any]], most: int = MAX_BATCH_RECORDS
             ) -> list[list[dict[str, Any]]]:
    batches: list[list[dict[str, Any]]] = []
    size = 0
    for record in records:
        length = len(json.dumps(record)) + 1
        if (not batches or size + length > MAX_BATCH_BYTES
                or len(batches[-1]) == most):
            batches.append([])
            size = 0
        batches[-1].append(record)
        size += length
    return batches


def readiness() -> Call[models.Readiness]:
    return Call("GET", "/readyz", _readiness, answers_when=(503,))


# applications (admins)
def applications(status: str | None, node_type: int | None, wallet: str | None,
                 verified: bool | None, limit: int, offset: int
                 ) -> Call[list[models.Application]]:
    return Call("GET", "/applications", _applications, params=query(
        status=status, node_type=node_type, wallet=wallet, verified=verified, limit=limit,
        offset=offset))


def application(app_id: str) -> Call[models.ApplicationDetail]:
    return Call("GET", f"/applications/{app_id}", _application_detail)


def approve(app_id: str, note: str) -> Call[models.Application]:
    return Call("POST", f"/applications/{app_id}/approve", _application, body={"note": note})


def reject(app_id: str, note: str) -> Call[models.Application]:
    return Call("POST", f"/applications/{app_id}/reject", _application, body={"note": note})


# the public auditor API
def events(filters: EventFilters, cursor: str | None, limit: int) -> Call[models.EventPage]:
    return Call("GET", "/events", _event_page,
                params={**filters.params(), **query(cursor=cursor, limit=limit)})


def events_csv(filters: EventFilters, limit: int) -> Call[str]:
    return Call("GET", "/events", _text,
                params={**filters.params(), **query(limit=limit, format="csv")})


def licenses(owner: str | None, node_type: int | None, status: str | None, after: int,
             limit: int) -> Call[list[models.License]]:
    return Call("GET", "/licenses", _licenses, params=query(
        owner=owner, node_type=node_type, status=status, after=after, limit=limit))


def license_detail(token_id: int) -> Call[models.LicenseDetail]:
    return Call("GET", f"/licenses/{token_id}", _license_detail)


def awaiting_admission() -> Call[list[models.Admission]]:
    return Call("GET", "/applications/awaiting-admission", _admissions)


def proposals(state: str | None, limit: int, offset: int) -> Call[list[models.Proposal]]:
    return Call("GET", "/governance/proposals", _proposals,
                params=query(state=state, limit=limit, offset=offset))


# the public monitoring of the node network
def network_functions() -> Call[list[models.NodeFunction]]:
    return Call("GET", "/network/functions", _functions)


def network_nodes() -> Call[list[models.NodeHealth]]:
    return Call("GET", "/network/nodes", _nodes)


def network_executions(function: str | None, node: str | None, outcome: str | None,
                       limit: int, cursor: str | None) -> Call[models.ExecutionPage]:
    return Call("GET", "/network/executions", _execution_page, params=query(
        function=function, node=node, outcome=outcome, limit=limit, cursor=cursor))


def network_rounds(feed: str | None = None, status: str | None = None,
                   from_round: int | None = None, to_round: int | None = None,
                   leader: str | None = None, limit: int = 100,
                   cursor: str | None = None) -> Call[models.RoundPage]:
    return Call("GET", "/network/rounds", _round_page, params=query(
        feed=feed, status=status, from_round=from_round, to_round=to_round, leader=leader,
        limit=limit, cursor=cursor))


def network_round_messages(feed: str, round_number: int, phase: str | None = None,
                           view: int | None = None, sender: str | None = None,
                           reporter: str | None = None, limit: int = 100,
                           cursor: str | None = None) -> Call[models.MessagePage]:
    return Call("GET", f"/network/rounds/{feed}/{round_number}/messages", _message_page,
                params=query(phase=phase, view=view, sender=sender, reporter=reporter,
                             limit=limit, cursor=cursor))


def network_members() -> Call[models.Members]:
    return Call("GET", "/network/members", _members)


def network_guard() -> Call[models.GuardState]:
    return Call("GET", "/network/guard", _guard)


# PAPER trading, read back
def trading_positions(desk: str | None, run: str | None,
                      limit: int) -> Call[list[models.TradingPosition]]:
    return Call("GET", "/trading/positions", _positions,
                params=query(desk=desk, run=run, limit=limit))


def trading_orders(desk: str | None, instrument: str | None, status: str | None, limit: int,
                   cursor: str | None) -> Call[models.TradingOrderPage]:
    return Call("GET", "/trading/orders", _order_page, params=query(
        desk=desk, instrument=instrument, status=status, limit=limit, cursor=cursor))


def trading_pnl(desk: str | None, run: str | None,
                limit: int) -> Call[list[models.EquityPoint]]:
    return Call("GET", "/trading/pnl", _equity_curve,
                params=query(desk=desk, run=run, limit=limit))


# the vault: the caller's own secrets, and the audit log (auditor roles)
def _secret_path(token_id: int, name: str | None = None) -> str:
    base = f"/vault/licenses/{token_id}/secrets"
    return base if name is None else f"{base}/{quote(name, safe='')}"


def put_secret(token_id: int, name: str, data: dict[str, Any]) -> Call[models.StoredSecret]:
    return Call("PUT", _secret_path(token_id, name), _stored_secret, body={"data": data})


def get_secret(token_id: int, name: str, version: int | None) -> Call[models.Secret]:
    return Call("GET", _secret_path(token_id, name), _secret, params=query(version=version))


def list_secrets(token_id: int) -> Call[list[models.SecretSummary]]:
    return Call("GET", _secret_path(token_id), _secret_list)


def delete_secret(token_id: int, name: str) -> Call[int]:
    return Call("DELETE", _secret_path(token_id, name), _deleted_versions)


def vault_audit_export() -> Call[models.VaultAuditExport]:
    return Call("GET", "/vault/audit/export", _vault_export)

