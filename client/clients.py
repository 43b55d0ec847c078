"""The backend's HTTP API as methods: `BackendClient` blocks, `AsyncBackendClient` awaits.
Both send the same `endpoints.Call`s, so the requests, the typed answers and the errors are
the same; every failure is a `BackendError`.

A client is signed in by a session token, sent as `Authorization: Bearer` (`token=`, or
`sign_in`, which sets it); `logout` drops it."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from types import TracebackType
from typing import Any, Self, TypeVar

import httpx

from client import endpoints, models
from client.endpoints import Call, EventFilters
from client.errors import unreachable
from noderr.siwe_text import siwe_message

T = TypeVar("T")
DEFAULT_TIMEOUT = 10.0
Signer = Callable[[str], str]
"""Signs an EIP-4361 message as `personal_sign` (EIP-191) does; the 0x-hex signature."""
NO_FILTER = EventFilters()


def _bearer(headers: httpx.Headers, token: str | None) -> None:
    if token:
        headers["Authorization"] = f"Bearer {token}"
    else:
        headers.pop("Authorization", None)


def _options(call: Call[Any]) -> dict[str, Any]:
    """Per-request options: a timeout of its own for a long poll."""
    return {} if call.timeout is None else {"timeout": call.timeout}


class BackendClient:
    """The backend's HTTP API, blocking. Close it (or use it in a `with` block)."""

    def __init__(self, base_url: str, token: str | None = None,
                 timeout: float = DEFAULT_TIMEOUT,
                 transport: httpx.BaseTransport | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self._http = httpx.Client(base_url=self.base_url, timeout=timeout, transport=transport)
        _bearer(self._http.headers, token)

    def call(self, call: Call[T]) -> T:
        """Send `call`; its typed answer, or BackendError."""
        try:
            response = self._http.request(call.method, call.path, params=call.params,
                                          json=call.body, **_options(call))
        except httpx.HTTPError as error:
            raise unreachable(self.base_url, error) from None
        return call.answer(response)

    def use_token(self, token: str | None) -> None:
        """Send `token` as the session from now on (None: no session)."""
        _bearer(self._http.headers, token)

    # auth and node identity
    def nonce(self) -> str:
        return self.call(endpoints.nonce())

    def sign_in_message(self, address: str, chain_id: int, origin: str | None = None) -> str:
        """The EIP-4361 message for `address` with a fresh nonce, for a page at `origin`
        (default: this client's backend URL; the backend accepts NODERR_SIWE_DOMAINS)."""
        return siwe_message(origin or self.base_url, address, chain_id, self.nonce())

    def verify(self, message: str, signature: str) -> models.Session:
        return self.call(endpoints.verify(message, signature))

    def sign_in(self, address: str, chain_id: int, sign: Signer,
                origin: str | None = None) -> models.Session:
        """Sign in with Ethereum, `sign` holding the key; this client then uses the session."""
        message = self.sign_in_message(address, chain_id, origin)
        session = self.verify(message, sign(message))
        self.use_token(session.token)
        return session

    def me(self) -> models.Me:
        return self.call(endpoints.me())

    def logout(self, everywhere: bool = False) -> None:
        """End this session (every session of the address with `everywhere`)."""
        self.call(endpoints.logout(everywhere))
        self.use_token(None)

    def nodes_me(self) -> models.LicensedNode:
        return self.call(endpoints.nodes_me())

    def readiness(self) -> models.Readiness:
        return self.call(endpoints.readiness())

    # a running node: its license watch, heartbeats and execution records
    def watch_licenses(self, after_block: int | None = None,
                       timeout_s: float = 25.0) -> models.LicenseWatch:
        """The caller's licenses once the mirror's indexed block is not `after_block` any
        more (at once without it), or after `timeout_s` seconds as they are then."""
        return self.call(endpoints.watch_licenses(after_block, timeout_s))

    def heartbeat(self, node_type: int, token_id: int, software_version: str,
                  state: models.NodeState) -> models.HeartbeatAck:
        return self.call(endpoints.heartbeat(node_type, token_id, software_version, state))

    def report_executions(self, node_type: int, token_id: int,
                          executions: Sequence[models.ExecutionRecord]) -> int:
        """Store the records (in batches the backend takes, each all or none); how many."""
        return sum(self.call(call) for call in
                   endpoints.report_executions(node_type, token_id, executions))

    def report_rounds(self, rounds: Sequence[models.RoundReport]) -> int:
        """Store the caller's validator's rounds (in batches the backend takes, each all or
        none); how many."""
        return sum(self.call(call) for call in endpoints.report_rounds(rounds))

    def report_messages(self, messages: Sequence[models.MessageReport]) -> int:
        """Store the consensus messages the caller's validator signed or received (in batches
        the backend takes, each all or none); how many were new."""
        return sum(self.call(call) for call in endpoints.report_messages(messages))

    def record_trading(self, run_id: str,
                       records: Sequence[Mapping[str, Any]]) -> models.RecordCounts:
        """Store PAPER trading records of the caller's desk (in batches the backend takes,
        each all or none, in order); how many of each kind."""
        return sum((self.call(call) for call in endpoints.record_trading(run_id, records)),
                   models.RecordCounts(orders=0, rejections=0, fills=0, equity_points=0))

    # applications (admins)
    def applications(self, status: models.ApplicationStatus | None = None,
                     node_type: int | None = None, wallet: str | None = None,
                     verified: bool | None = None, limit: int = 100,
                     offset: int = 0) -> list[models.Application]:
        return self.call(endpoints.applications(status, node_type, wallet, verified, limit,
                                                offset))

    def application(self, app_id: str) -> models.ApplicationDetail:
        return self.call(endpoints.application(app_id))

    def approve(self, app_id: str, note: str) -> models.Application:
        return self.call(endpoints.approve(app_id, note))

    def reject(self, app_id: str, note: str) -> models.Application:
        return self.call(endpoints.reject(app_id, note))

    def awaiting_admission(self) -> list[models.Admission]:
        return self.call(endpoints.awaiting_admission())

    # the public auditor API
    def events(self, filters: EventFilters = NO_FILTER, cursor: str | None = None,
               limit: int = 100) -> models.EventPage:
        return self.call(endpoints.events(filters, cursor, limit))

    def events_csv(self, filters: EventFilters = NO_FILTER, limit: int = 100) -> str:
        return self.call(endpoints.events_csv(filters, limit))

    def licenses(self, owner: str | None = None, node_type: int | None = None,
                 status: models.LicenseState | None = None, after: int = 0,
                 limit: int = 100) -> list[models.License]:
        return self.call(endpoints.licenses(owner, node_type, status, after, limit))

    def license(self, token_id: int) -> models.LicenseDetail:
        return self.call(endpoints.license_detail(token_id))

    def proposals(self, state: models.ProposalState | None = None, limit: int = 100,
                  offset: int = 0) -> list[models.Proposal]:
        return self.call(endpoints.proposals(state, limit, offset))

    # the public monitoring of the node network
    def network_functions(self) -> list[models.NodeFunction]:
        return self.call(endpoints.network_functions())

    def network_nodes(self) -> list[models.NodeHealth]:
        return self.call(endpoints.network_nodes())

    def network_executions(self, function: str | None = None, node: str | None = None,
                           outcome: models.Outcome | None = None, limit: int = 100,
                           cursor: str | None = None) -> models.ExecutionPage:
        return self.call(endpoints.network_executions(function, node, outcome, limit, cursor))

    def network_rounds(self, feed: str | None = None,
                       status: models.RoundStatus | None = None,
                       from_round: int | None = None, to_round: int | None = None,
                       leader: str | None = None, limit: int = 100,
                       cursor: str | None = None) -> models.RoundPage:
        """The validators' reports of consensus rounds, newest first, with the chain's
        word on each (its transmit transaction once indexed)."""
        return self.call(endpoints.network_rounds(feed, status, from_round, to_round, leader,
                                                  limit, cursor))

    def network_round_messages(self, feed: str, round_number: int,
                               phase: models.Phase | None = None, view: int | None = None,
                               sender: str | None = None, reporter: str | None = None,
                               limit: int = 100, cursor: str | None = None
                               ) -> models.MessagePage:
        """The consensus messages of one round of a feed as the validators reported them,
        newest first."""
        return self.call(endpoints.network_round_messages(feed, round_number, phase, view,
                                                          sender, reporter, limit, cursor))

    def network_members(self) -> models.Members:
        return self.call(endpoints.network_members())

    def network_guard(self) -> models.GuardState:
        """Whether the network is halted, as NodeGuard's events in the mirror show it."""
        return self.call(endpoints.network_guard())

    # PAPER trading, read back
    def trading_positions(self, desk: str | None = None, run: str | None = None,
                          limit: int = 1000) -> list[models.TradingPosition]:
        return self.call(endpoints.trading_positions(desk, run, limit))

    def trading_orders(self, desk: str | None = None, instrument: str | None = None,
                       status: models.OrderStatus | None = None, limit: int = 100,
                       cursor: str | None = None) -> models.TradingOrderPage:
        return self.call(endpoints.trading_orders(desk, instrument, status, limit, cursor))

    def trading_pnl(self, desk: str | None = None, run: str | None = None,
                    limit: int = 1000) -> list[models.EquityPoint]:
        return self.call(endpoints.trading_pnl(desk, run, limit))

    # the vault: the caller's own secrets, and the audit log (auditor roles)
    def put_secret(self, token_id: int, name: str,
                   data: dict[str, Any]) -> models.StoredSecret:
        return self.call(endpoints.put_secret(token_id, name, data))

    def get_secret(self, token_id: int, name: str,
                   version: int | None = None) -> models.Secret:
        return self.call(endpoints.get_secret(token_id, name, version))

    def list_secrets(self, token_id: int) -> list[models.SecretSummary]:
        return self.call(endpoints.list_secrets(token_id))

    def delete_secret(self, token_id: int, name: str) -> int:
        """Delete every version of the secret; how many there were."""
        return self.call(endpoints.delete_secret(token_id, name))

    def vault_audit_export(self) -> models.VaultAuditExport:
        return self.call(endpoints.vault_audit_export())

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.close()


class AsyncBackendClient:
    """The backend's HTTP API for asyncio, the same methods as `BackendClient` awaited. Close
    it (`await aclose()`, or use it in an `async with` block)."""

    def __init__(self, base_url: str, token: str | None = None,
                 timeout: float = DEFAULT_TIMEOUT,
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self._http = httpx.AsyncClient(base_url=self.base_url, timeout=timeout,
                                       transport=transport)
        _bearer(self._http.headers, token)

    async def call(self, call: Call[T]) -> T:
        """Send `call`; its typed answer, or BackendError."""
        try:
            response = await self._http.request(call.method, call.path, params=call.params,
                                                json=call.body, **_options(call))
        except httpx.HTTPError as error:
            raise unreachable(self.base_url, error) from None
        return call.answer(response)

    def use_token(self, token: str | None) -> None:
        """Send `token` as the session from now on (None: no session)."""
        _bearer(self._http.headers, token)

    @property
    def token(self) -> str | None:
        """The session token this client sends (None before sign-in and after logout)."""
        scheme, _, token = self._http.headers.get("Authorization", "").partition(" ")
        return token if scheme == "Bearer" and token else None

    # auth and node identity
    async def nonce(self) -> str:
        return await self.call(endpoints.nonce())

    async def sign_in_message(self, address: str, chain_id: int,
                              origin: str | None = None) -> str:
        """The EIP-4361 message for `address` with a fresh nonce, for a page at `origin`
        (default: this client's backend URL; the backend accepts NODERR_SIWE_DOMAINS)."""
        return siwe_message(origin or self.base_url, address, chain_id, await self.nonce())

    async def verify(self, message: str, signature: str) -> models.Session:
        return await self.call(endpoints.verify(message, signature))

    async def sign_in(self, address: str, chain_id: int, sign: Signer,
                      origin: str | None = None) -> models.Session:
        """Sign in with Ethereum, `sign` holding the key; this client then uses the session."""
        message = await self.sign_in_message(address, chain_id, origin)
        session = await self.verify(message, sign(message))
        self.use_token(session.token)
        return session

    async def me(self) -> models.Me:
        return await self.call(endpoints.me())

    async def logout(self, everywhere: bool = False) -> None:
        """End this session (every session of the address with `everywhere`)."""
        await self.call(endpoints.logout(everywhere))
        self.use_token(None)

    async def nodes_me(self) -> models.LicensedNode:
        return await self.call(endpoints.nodes_me())

    async def readiness(self) -> models.Readiness:
        return await self.call(endpoints.readiness())

    # a running node: its license watch, heartbeats and execution records
    async def watch_licenses(self, after_block: int | None = None,
                             timeout_s: float = 25.0) -> models.LicenseWatch:
        """The caller's licenses once the mirror's indexed block is not `after_block` any
        more (at once without it), or after `timeout_s` seconds as they are then."""
        return await self.call(endpoints.watch_licenses(after_block, timeout_s))

    async def heartbeat(self, node_type: int, token_id: int, software_version: str,
                        state: models.NodeState) -> models.HeartbeatAck:
        return await self.call(endpoints.heartbeat(node_type, token_id, software_version,
                                                   state))

    async def report_executions(self, node_type: int, token_id: int,
                                executions: Sequence[models.ExecutionRecord]) -> int:
        """Store the records (in batches the backend takes, each all or none); how many."""
        return sum([await self.call(call) for call in
                    endpoints.report_executions(node_type, token_id, executions)])

    async def report_rounds(self, rounds: Sequence[models.RoundReport]) -> int:
        """Store the caller's validator's rounds (in batches the backend takes, each all or
        none); how many."""
        return sum([await self.call(call) for call in endpoints.report_rounds(rounds)])

    async def report_messages(self, messages: Sequence[models.MessageReport]) -> int:
        """Store the consensus messages the caller's validator signed or received (in batches
        the backend takes, each all or none); how many were new."""
        return sum([await self.call(call) for call in endpoints.report_messages(messages)])

    async def record_trading(self, run_id: str,
                             records: Sequence[Mapping[str, Any]]) -> models.RecordCounts:
        """Store PAPER trading records of the caller's desk (in batches the backend takes,
        each all or none, in order); how many of each kind."""
        total = models.RecordCounts(orders=0, rejections=0, fills=0, equity_points=0)
        for call in endpoints.record_trading(run_id, records):
            total = total + await self.call(call)
        return total

    # applications (admins)
    async def applications(self, status: models.ApplicationStatus | None = None,
                           node_type: int | None = None, wallet: str | None = None,
                           verified: bool | None = None, limit: int = 100,
                           offset: int = 0) -> list[models.Application]:
        return await self.call(endpoints.applications(status, node_type, wallet, verified,
                                                      limit, offset))

    async def application(self, app_id: str) -> models.ApplicationDetail:
        return await self.call(endpoints.application(app_id))

    async def approve(self, app_id: str, note: str) -> models.Application:
        return await self.call(endpoints.approve(app_id, note))

    async def reject(self, app_id: str, note: str) -> models.Application:
        return await self.call(endpoints.reject(app_id, note))

    async def awaiting_admission(self) -> list[models.Admission]:
        return await self.call(endpoints.awaiting_admission())

    # the public auditor API
    async def events(self, filters: EventFilters = NO_FILTER, cursor: str | None = None,
                     limit: int = 100) -> models.EventPage:
        return await self.call(endpoints.events(filters, cursor, limit))

    async def events_csv(self, filters: EventFilters = NO_FILTER, limit: int = 100) -> str:
        return await self.call(endpoints.events_csv(filters, limit))

    async def licenses(self, owner: str | None = None, node_type: int | None = None,
                       status: models.LicenseState | None = None, after: int = 0,
                       limit: int = 100) -> list[models.License]:
        return await self.call(endpoints.licenses(owner, node_type, status, after, limit))

    async def license(self, token_id: int) -> models.LicenseDetail:
        return await self.call(endpoints.license_detail(token_id))

    async def proposals(self, state: models.ProposalState | None = None, limit: int = 100,
                        offset: int = 0) -> list[models.Proposal]:
        return await self.call(endpoints.proposals(state, limit, offset))

    # the public monitoring of the node network
    async def network_functions(self) -> list[models.NodeFunction]:
        return await self.call(endpoints.network_functions())

    async def network_nodes(self) -> list[models.NodeHealth]:
        return await self.call(endpoints.network_nodes())

    async def network_executions(self, function: str | None = None, node: str | None = None,
                                 outcome: models.Outcome | None = None, limit: int = 100,
                                 cursor: str | None = None) -> models.ExecutionPage:
        return await self.call(endpoints.network_executions(function, node, outcome, limit,
                                                            cursor))

    async def network_rounds(self, feed: str | None = None,
                             status: models.RoundStatus | None = None,
                             from_round: int | None = None, to_round: int | None = None,
                             leader: str | None = None, limit: int = 100,
                             cursor: str | None = None) -> models.RoundPage:
        """The validators' reports of consensus rounds, newest first, with the chain's
        word on each (its transmit transaction once indexed)."""
        return await self.call(endpoints.network_rounds(feed, status, from_round, to_round,
                                                        leader, limit, cursor))

    async def network_round_messages(self, feed: str, round_number: int,
                                     phase: models.Phase | None = None,
                                     view: int | None = None, sender: str | None = None,
                                     reporter: str | None = None, limit: int = 100,
                                     cursor: str | None = None) -> models.MessagePage:
        """The consensus messages of one round of a feed as the validators reported them,
        newest first."""
        return await self.call(endpoints.network_round_messages(
            feed, round_number, phase, view, sender, reporter, limit, cursor))

    async def network_members(self) -> models.Members:
        return await self.call(endpoints.network_members())

    async def network_guard(self) -> models.GuardState:
        """Whether the network is halted, as NodeGuard's events in the mirror show it."""
        return await self.call(endpoints.network_guard())

    # PAPER trading, read back
    async def trading_positions(self, desk: str | None = None, run: str | None = None,
                                limit: int = 1000) -> list[models.TradingPosition]:
        return await self.call(endpoints.trading_positions(desk, run, limit))

    async def trading_orders(self, desk: str | None = None, instrument: str | None = None,
                             status: models.OrderStatus | None = None, limit: int = 100,
                             cursor: str | None = None) -> models.TradingOrderPage:
        return await self.call(endpoints.trading_orders(desk, instrument, status, limit,
                                                        cursor))

    async def trading_pnl(self, desk: str | None = None, run: str | None = None,
                          limit: int = 1000) -> list[models.EquityPoint]:
        return await self.call(endpoints.trading_pnl(desk, run, limit))

    # the vault: the caller's own secrets, and the audit log (auditor roles)
    async def put_secret(self, token_id: int, name: str,
                         data: dict[str, Any]) -> models.StoredSecret:
        return await self.call(endpoints.put_secret(token_id, name, data))

    async def get_secret(self, token_id: int, name: str,
                         version: int | None = None) -> models.Secret:
        return await self.call(endpoints.get_secret(token_id, name, version))

    async def list_secrets(self, token_id: int) -> list[models.SecretSummary]:
        return await self.call(endpoints.list_secrets(token_id))

    async def delete_secret(self, token_id: int, name: str) -> int:
        """Delete every version of the secret; how many there were."""
        return await self.call(endpoints.delete_secret(token_id, name))

    async def vault_audit_export(self) -> models.VaultAuditExport:
        return await self.call(endpoints.vault_audit_export())

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, kind: type[BaseException] | None, error: BaseException | None,
                        traceback: TracebackType | None) -> None:
        await self.aclose()
