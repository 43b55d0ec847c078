"""What the backend answers, as the clients return it. Field names and types follow the
backend's routes (backend/api/routes/); fields a newer backend adds are ignored. uint256
values the backend sends as decimal strings (governance tallies) stay strings: they do not
fit a float or an Arrow column."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from noderr.domain import NodeType
from noderr.execution_results import ExecutionResult

LicenseState = Literal["active", "suspended", "revoked"]
HeldState = Literal["active", "suspended"]
NodeState = Literal["active", "suspended", "stopping"]
NodeStatus = Literal["active", "suspended", "stale", "stopped"]
Outcome = Literal["ok", "rejected", "error"]
ApplicationStatus = Literal["pending", "approved", "minted", "rejected"]
ProposalState = Literal["created", "queued", "executed", "canceled"]
Side = Literal["buy", "sell"]
OrderStatus = Literal["sent", "partially_filled", "filled", "rejected"]
RoundStatus = Literal["agreed", "transmitted", "failed"]
Phase = Literal["pre_prepare", "prepare", "commit", "view_change", "new_view", "decided"]


class Answer(BaseModel):
    model_config = ConfigDict(frozen=True)


class Session(Answer):
    """POST /auth/verify: a signed-in session; `token` goes in `Authorization: Bearer`."""

    address: str
    token: str
    expires_at: datetime


class OwnLicense(Answer):
    """One active license of the signed-in wallet, as the mirror shows it."""

    token_id: int
    node_type: NodeType
    status: LicenseState
    application_id: str | None
    minted_block: int


class Me(Answer):
    """GET /auth/me: the signed-in address, its active licenses and NodeLicense roles (a
    role the mirror cannot name is its 0x id) at `indexed_block`."""

    address: str
    licenses: list[OwnLicense]
    roles: list[str]
    indexed_block: int | None


class LicensedNode(Answer):
    """GET /nodes/me: the caller's active licenses, read from a mirror fresh enough to trust
    (the backend answers 403 without a license, 503 while the mirror lags)."""

    address: str
    licenses: list[OwnLicense]
    indexed_block: int | None


class Readiness(Answer):
    """GET /readyz, whether ready (200) or not (503): every check, chain head, indexed block."""

    status: Literal["ready", "not ready"]
    checks: dict[str, str]
    head_block: int | None
    indexed_block: int | None
    caller_cache: str

    @property
    def ready(self) -> bool:
        return self.status == "ready"

    @property
    def problems(self) -> dict[str, str]:
        return {name: state for name, state in self.checks.items() if state != "ok"}


class MintTransaction(Answer):
    """The exact NodeLicense.mint transaction an approved application waits for."""

    to: str
    data: str
    value: str
    chain_id: int


class ProposalTransaction(MintTransaction):
    """The NodeGovernor.propose transaction that admits an approved Validator application:
    a validator's wallet sends it; the license is minted when the proposal is executed."""

    description: str


class Application(Answer):
    """One application, as admins list it. While approved it carries the transaction that
    admits it: `mint_transaction` (Oracle, Guardian) or `proposal_transaction` (Validator)."""

    id: str
    application_id: str
    source: Literal["typeform", "api"]
    applicant_name: str
    contact: str
    wallet_address: str
    wallet_verified: bool
    node_type: NodeType
    region: str
    experience: str
    status: ApplicationStatus
    review_note: str | None
    token_id: int | None
    created_at: datetime
    updated_at: datetime
    mint_transaction: MintTransaction | None = None
    proposal_transaction: ProposalTransaction | None = None


class Admission(Answer):
    """GET /applications/awaiting-admission (active validators): an approved Validator
    application not yet minted, and the proposal that admits it."""

    id: str
    application_id: str
    applicant_name: str
    wallet_address: str
    region: str
    review_note: str | None
    updated_at: datetime
    proposal_transaction: ProposalTransaction


class ApplicationStep(Answer):
    action: str
    from_status: str | None
    to_status: str
    actor: str
    note: str | None
    at: datetime


class ApplicationDetail(Application):
    """GET /applications/{id}: with its history; `answers` (every raw Typeform answer by
    field ref) only for admins."""

    history: list[ApplicationStep]
    answers: dict[str, Any] | None = None


class ChainEvent(Answer):
    """One decoded contract event from the mirror (`args` None when it could not decode)."""

    block_number: int
    block_timestamp: datetime
    tx_hash: str
    log_index: int
    contract_name: str
    contract_address: str
    event_name: str | None
    args: dict[str, Any] | None


class EventPage(Answer):
    """GET /events: oldest first; pass `next_cursor` on for the next page (None: the last)."""

    events: list[ChainEvent]
    next_cursor: str | None


class License(Answer):
    """GET /licenses: one license the mirror knows, revoked ones too."""

    token_id: int
    owner: str
    node_type: NodeType
    status: LicenseState
    status_reason: str | None
    application_id: str
    minted_block: int
    minted_tx: str
    last_change_block: int


class LicenseChange(Answer):
    block_number: int
    block_timestamp: datetime
    tx_hash: str
    log_index: int
    event_name: str | None
    args: dict[str, Any] | None


class LicenseDetail(License):
    """GET /licenses/{token_id}: the license and every event about it, oldest first."""

    history: list[LicenseChange]


class Proposal(Answer):
    """GET /governance/proposals: a proposal with its tallies; deadlines are block numbers."""

    proposal_id: str
    proposer: str
    targets: list[str]
    values: list[int | str]
    calldatas: list[str]
    description: str
    state: ProposalState
    snapshot: str
    deadline: str
    eta: str | None
    votes_for: str
    votes_against: str
    votes_abstain: str
    created_block: int
    last_change_block: int


class StoredSecret(Answer):
    """PUT /vault/licenses/{token_id}/secrets/{name}: the version just written."""

    token_id: int
    name: str
    version: int
    created_at: datetime


class Secret(StoredSecret):
    """GET /vault/licenses/{token_id}/secrets/{name}: one version, decrypted."""

    created_by: str
    data: dict[str, Any]


class SecretSummary(Answer):
    """One secret of a license in GET /vault/licenses/{token_id}/secrets: never its value."""

    name: str
    latest_version: int
    versions: int
    created_at: datetime
    updated_at: datetime


class VaultAuditExport(Answer):
    """GET /vault/audit/export: the whole log as JSON lines, and `head` (`SEQ:HASH` of the
    newest entry, from the X-Vault-Audit-Head header) to detect a cut-off export."""

    text: str
    head: str | None


class HeldLicense(Answer):
    """A license the caller holds, active or suspended."""

    token_id: int
    node_type: NodeType
    status: HeldState


class LicenseWatch(Answer):
    """GET /nodes/me/watch: every license the caller holds at `indexed_block` (a revoked one
    is burned, a reassigned one is someone else's: neither is listed). Pass `indexed_block`
    as the next watch's `after_block`."""

    address: str
    indexed_block: int | None
    licenses: list[HeldLicense]

    def license(self, node_type: int) -> HeldLicense | None:
        """The caller's license of `node_type`, whatever its status, or None."""
        return next((item for item in self.licenses if item.node_type == node_type), None)


class HeartbeatAck(Answer):
    """POST /nodes/heartbeat: stored, judged at the mirror's `indexed_block`."""

    recorded: bool
    indexed_block: int | None


class ExecutionRecord(BaseModel):
    """One run of a catalogue function, as a node reports it (POST /nodes/executions). Built
    from any object with these attributes too: `ExecutionRecord.model_validate(execution)`."""

    model_config = ConfigDict(frozen=True, from_attributes=True)

    function: str
    started_at: datetime
    duration_ms: float
    outcome: Outcome
    error: str | None = None
    result: ExecutionResult | None = Field(None, exclude_if=lambda result: result is None)
    """What the run found (noderr/execution_results.py); left out of the body when none."""


class NodeFunction(Answer):
    """GET /network/functions: one function of the catalogue."""

    name: str
    node_type: NodeType
    category: str
    description: str


class NodeHealth(Answer):
    """GET /network/nodes: a node as its heartbeats and the mirror show it."""

    address: str
    node_type: NodeType
    token_id: int
    status: NodeStatus
    last_heartbeat: datetime
    started_at: datetime
    software_version: str


class ExecutionItem(Answer):
    """One stored execution record of GET /network/executions."""

    id: int
    address: str
    node_type: NodeType
    token_id: int
    function: str
    started_at: datetime
    duration_ms: float
    outcome: Outcome
    error: str | None
    result: ExecutionResult | None = None
    """What the run found (noderr/execution_results.py), where its function reports it."""


class ExecutionPage(Answer):
    """GET /network/executions: newest first; pass `next_cursor` on for older records (None:
    the last page)."""

    items: list[ExecutionItem]
    next_cursor: str | None


class Member(Answer):
    address: str
    node_type: NodeType
    token_id: int


class Members(Answer):
    """GET /network/members: the active licenses at `indexed_block`, by address: whose
    signed bus messages count."""

    indexed_block: int | None
    members: list[Member]


# the validators' consensus rounds
class RoundReport(BaseModel):
    """A round a validator decided, as it reports it (POST /nodes/rounds): the view it
    decided in and that view's leader (None when it caught up from others' commits), the
    report, the signatures it holds, and what became of it as far as it saw."""

    model_config = ConfigDict(frozen=True)

    feed: str
    round: int
    view: int | None
    leader: str | None
    answer: int
    observed_at: int
    signers: tuple[str, ...]
    status: RoundStatus
    decided_at: datetime


class ViewChangeSeen(Answer):
    """Validators that asked for `view` of a round, as a round's reporter saw them."""

    view: int
    senders: list[str]


class RoundItem(Answer):
    """One validator's report of a round (GET /network/rounds). Once `status` is
    `transmitted`, `value`, `observed_at` and `signers` are the chain's (its Transmitted
    event), with `transmit_tx_hash`; `agrees_with_chain` says whether the reporter's report
    matched."""

    id: int
    feed: str
    feed_address: str
    round: int
    view: int | None
    view_changes: int | None
    leader: str | None
    value: int
    observed_at: int
    signers: list[str]
    status: RoundStatus
    reported_status: RoundStatus
    reported_by: str
    decided_at: datetime
    recorded_at: datetime
    transmit_tx_hash: str | None
    transmitter: str | None
    block_number: int | None
    agrees_with_chain: bool | None
    view_changes_seen: list[ViewChangeSeen] = []


class RoundPage(Answer):
    """GET /network/rounds: newest first; pass `next_cursor` on for older rounds (None: the
    last page)."""

    items: list[RoundItem]
    next_cursor: str | None


class MessageReport(BaseModel):
    """A consensus message a validator signed or received, as it reports it (POST
    /nodes/consensus-messages): the feed, the message's signed text and its author's
    signature (0x hex), and when it was sent or received. The backend reads the rest from the
    text and checks the signature."""

    model_config = ConfigDict(frozen=True)

    feed: str
    text: str
    signature: str
    seen_at: datetime


class MessageItem(Answer):
    """One stored consensus message (GET /network/rounds/{feed}/{round}/messages)."""

    id: int
    feed: str
    round: int
    view: int | None
    phase: Phase
    sender: str
    digest: str | None
    signed_digest: str
    signature: str
    text: str
    reported_by: str
    direction: Literal["sent", "received"]
    seen_at: datetime
    recorded_at: datetime


class MessagePage(Answer):
    """Newest first; pass `next_cursor` on for older messages (None: the last page)."""

    items: list[MessageItem]
    next_cursor: str | None


# PAPER trading (simulated fills): amounts arrive as decimal strings and are read exactly
class RecordCounts(Answer):
    """POST /trading/records: how many records of each kind a batch stored."""

    orders: int
    rejections: int
    fills: int
    equity_points: int

    def __add__(self, other: RecordCounts) -> RecordCounts:
        return RecordCounts(**{name: getattr(self, name) + getattr(other, name)
                               for name in type(self).model_fields})


class TradingPosition(Answer):
    """GET /trading/positions: a run's open position in one instrument (average cost)."""

    desk: str
    run_id: str
    instrument: str
    quantity: Decimal
    average_price: Decimal
    cost: Decimal
    realized_pnl: Decimal
    fills: int
    last_fill_at: datetime


class OrderRejection(Answer):
    """Why an order was refused before the venue."""

    check: str
    value: float | None
    limit: float | None
    reason: str
    at: datetime


class TradingOrder(Answer):
    """One order of GET /trading/orders, sent or refused."""

    id: int
    desk: str
    run_id: str
    order_id: str
    instrument: str
    side: Side
    order_type: Literal["market", "limit"]
    time_in_force: Literal["IOC", "GTC"]
    quantity: Decimal
    limit_price: Decimal | None
    created_at: datetime
    filled_quantity: Decimal
    status: OrderStatus
    rejection: OrderRejection | None


class TradingOrderPage(Answer):
    """GET /trading/orders: newest first; pass `next_cursor` on for older orders (None: the
    last page)."""

    items: list[TradingOrder]
    next_cursor: str | None


class EquityPoint(Answer):
    """GET /trading/pnl: one point of a run's equity curve."""

    id: int
    desk: str
    run_id: str
    at: datetime
    cash: Decimal
    market_value: Decimal
    equity: Decimal
    realized_pnl: Decimal
    unrealized_pnl: Decimal
    fees: Decimal


class GuardState(Answer):
    """GET /network/guard: NodeGuard at `indexed_block`. `nonce` is its halt_nonce (accepted
    halts so far: the nonce the next halt is signed with); `block`/`since` those of its last
    halt or resume (None: never); `reason`/`signers` those of the halt in force."""

    guard: str
    halted: bool
    nonce: int
    reason: str | None
    signers: list[str]
    block: int | None
    since: datetime | None
    indexed_block: int | None
