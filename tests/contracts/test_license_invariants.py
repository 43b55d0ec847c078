"""Stateful property test of NodeLicense against a Python model.

Hypothesis drives random sequences of mint / suspend / reinstate / revoke /
reassign / pause / unpause / set_supply_cap by random actors (with and without
the needed role), with random (also invalid) arguments, plus attempted
transfers and approvals. Every call's outcome, success or the exact revert
reason, is predicted by the model first. An expected revert is checked with an
eth_call from the same sender (ape traces every failed transaction, which is
about 40 times slower; the unit tests cover the same reasons with real
transactions). After every step the invariants below are checked against the
chain. Each example starts from the same chain snapshot and reverts to it in
teardown, so examples are independent.
"""

from hypothesis import Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)
from web3.exceptions import ContractLogicError

from tests.contracts.license_constants import (
    ACTIVE,
    ADMITTED,
    GOVERNED,
    MISSING_ROLE,
    NODE_TYPES,
    NONEXISTENT,
    PAUSED,
    SOULBOUND,
    SUSPENDED,
    VALIDATOR,
    ZERO_ADDRESS,
    application_id,
)

NOT_PAUSED = "pausable: contract is not paused"
EMPTY_APP = b"\x00" * 32

node_types = st.sampled_from([0, *NODE_TYPES * 3, 4])  # mostly valid, some invalid
# A token pick: mostly a live license, sometimes any id up to one past the last minted
# (so also revoked ones, id 0 and a never-minted one); see `LicenseMachine.token`.
token_ids = st.integers(min_value=0, max_value=2**16)
reasons = st.sampled_from(["", "r" * 256, *["missed heartbeats"] * 4])
caps = st.integers(min_value=0, max_value=4)
ACTOR_NAMES = ["admin", "minter", "revoker", "pauser", "mallory", "alice"]


def as_actor(role):
    """Mostly the account holding `role`, otherwise any actor (most lack it)."""
    return st.sampled_from([role] * 10 + ACTOR_NAMES)


def as_operator(role):
    """Mostly `role` or the admin (who alone changes Validator licenses), otherwise any actor."""
    return st.sampled_from([role] * 6 + ["admin"] * 4 + ACTOR_NAMES)


def test_license_state_machine(
    license, chain, deployer, minter, revoker, pauser, alice, bob, carol, mallory
):
    actors = {
        "admin": deployer,
        "minter": minter,
        "revoker": revoker,
        "pauser": pauser,
        "mallory": mallory,
        "alice": alice,
    }
    roles = {"admin": "admin", "minter": "minter", "revoker": "revoker", "pauser": "pauser"}
    holders = [alice, bob, carol, minter]
    # Raw web3 view calls: an order of magnitude faster than ape's for the many invariant reads.
    web3 = chain.provider.web3
    views = web3.eth.contract(
        address=license.address,
        abi=[item.model_dump(by_alias=True, mode="json") for item in license.contract_type.abi],
    ).functions

    class LicenseMachine(RuleBasedStateMachine):
        @initialize(
            seeds=st.lists(
                st.tuples(st.sampled_from(range(len(holders))), st.sampled_from(NODE_TYPES)),
                max_size=5,
            )
        )
        def start(self, seeds):
            """Snapshot the chain, then start with a few live licenses (valid mints)."""
            self.snapshot = chain.snapshot()
            self.tokens = {}  # token id -> [owner address, node type, status]
            self.next_id = 1
            self.next_app = 0
            self.used_apps = []
            self.caps = dict.fromkeys(NODE_TYPES, 0)
            self.paused = False
            self.history = [(chain.blocks.head.number, self.active_counts())]
            self.touched = None
            for holder, node_type in seeds:
                self.try_mint(self.operator(node_type, "minter"), holder, node_type, "fresh")

        def teardown(self):
            if hasattr(self, "snapshot"):
                try:
                    self.check_history()
                finally:
                    chain.restore(self.snapshot)

        # --- model helpers ------------------------------------------------------------

        def active_counts(self):
            return {
                t: sum(1 for o, nt, s in self.tokens.values() if nt == t and s == ACTIVE)
                for t in NODE_TYPES
            }

        def supply(self, node_type):
            return sum(1 for _, nt, _ in self.tokens.values() if nt == node_type)

        def holds(self, owner, node_type):
            return any(o == owner and nt == node_type for o, nt, _ in self.tokens.values())

        def assert_reverts(self, reason, function, args, sender):
            """The call reverts with exactly `reason` (simulated with eth_call: ape's
            revert handling traces every failed transaction, ~40x slower)."""
            try:
                getattr(views, function)(*args).call({"from": sender.address})
            except ContractLogicError as err:
                assert err.message == f"execution reverted: {reason}", err.message
            else:
                raise AssertionError(f"{function}{tuple(args)} did not revert with {reason!r}")

        @staticmethod
        def operator(node_type, role):
            """Who may change a license of `node_type`: the admin (governance) alone for a
            Validator license, `role` for the others."""
            return "admin" if node_type == VALIDATOR else role

        def refusal(self, actor, node_type, role, pausable, governed_reason):
            """The revert reason of `actor` changing a license of `node_type`, or None."""
            if node_type == VALIDATOR:
                return None if roles.get(actor) == "admin" else governed_reason
            if roles.get(actor) != role:
                return MISSING_ROLE
            if pausable and self.paused:
                return PAUSED
            return None

        def token(self, pick):
            """Map a drawn number to a token id: 3 in 4 picks a live license."""
            live = sorted(self.tokens)
            if live and pick % 4:
                return live[pick % len(live)]
            return pick % (self.next_id + 1)

        def record(self, tx, token_id=None):
            self.history.append((tx.block_number, self.active_counts()))
            self.touched = token_id

        # --- rules --------------------------------------------------------------------

        @rule(
            actor=as_operator("minter"),
            holder=st.sampled_from(range(len(holders))),
            node_type=node_types,
            app=st.sampled_from(["fresh", "fresh", "fresh", "used", "empty"]),
        )
        def mint(self, actor, holder, node_type, app):
            self.try_mint(actor, holder, node_type, app)

        @rule(
            actor=as_operator("minter"),
            holder=st.sampled_from(range(len(holders))),
            node_type=node_types,
            app=st.sampled_from(["fresh", "fresh", "fresh", "used", "empty"]),
        )
        def mint_more(self, actor, holder, node_type, app):
            """Minting twice as likely as other rules: most other steps need live licenses."""
            self.try_mint(actor, holder, node_type, app)

        def try_mint(self, actor, holder, node_type, app):
            owner = holders[holder].address
            if app == "used" and self.used_apps:
                app_id = self.used_apps[0]
            elif app == "empty":
                app_id = EMPTY_APP
            else:
                self.next_app += 1
                app_id = application_id(10_000 + self.next_app)
            refusal = self.refusal(actor, node_type, "minter", True, ADMITTED)
            if refusal:
                error = refusal
            elif node_type not in NODE_TYPES:
                error = "NodeLicense: invalid node type"
            elif app_id == EMPTY_APP:
                error = "NodeLicense: empty application id"
            elif app_id in self.used_apps:
                error = "NodeLicense: application already used"
            elif self.holds(owner, node_type):
                error = "NodeLicense: owner already licensed"
            elif self.caps[node_type] and self.supply(node_type) >= self.caps[node_type]:
                error = "NodeLicense: supply cap reached"
            else:
                error = None
            if error:
                self.assert_reverts(error, "mint", [owner, node_type, app_id], actors[actor])
                return
            tx = license.mint(owner, node_type, app_id, sender=actors[actor])
            assert tx.return_value == self.next_id
            self.tokens[self.next_id] = [owner, node_type, ACTIVE]
            self.used_apps.append(app_id)
            self.next_id += 1
            self.record(tx, tx.return_value)

        @rule(actor=as_operator("revoker"), token_id=token_ids, reason=reasons)
        def suspend(self, actor, token_id, reason):
            token_id = self.token(token_id)
            if token_id not in self.tokens:
                error = NONEXISTENT
            elif refusal := self.refusal(actor, self.tokens[token_id][1], "revoker", False,
                                         GOVERNED):
                error = refusal
            elif not reason:
                error = "NodeLicense: empty reason"
            elif self.tokens[token_id][2] != ACTIVE:
                error = "NodeLicense: not active"
            else:
                error = None
            if error:
                self.assert_reverts(error, "suspend", [token_id, reason], actors[actor])
                return
            tx = license.suspend(token_id, reason, sender=actors[actor])
            self.tokens[token_id][2] = SUSPENDED
            self.record(tx, token_id)

        @rule(actor=as_operator("revoker"), token_id=token_ids)
        def reinstate(self, actor, token_id):
            token_id = self.token(token_id)
            if token_id not in self.tokens:
                error = NONEXISTENT
            elif refusal := self.refusal(actor, self.tokens[token_id][1], "revoker", True,
                                         GOVERNED):
                error = refusal
            elif self.tokens[token_id][2] != SUSPENDED:
                error = "NodeLicense: not suspended"
            else:
                error = None
            if error:
                self.assert_reverts(error, "reinstate", [token_id], actors[actor])
                return
            tx = license.reinstate(token_id, sender=actors[actor])
            self.tokens[token_id][2] = ACTIVE
            self.record(tx, token_id)

        @rule(actor=as_operator("revoker"), token_id=token_ids, reason=reasons)
        def revoke(self, actor, token_id, reason):
            token_id = self.token(token_id)
            if token_id not in self.tokens:
                error = NONEXISTENT
            elif refusal := self.refusal(actor, self.tokens[token_id][1], "revoker", False,
                                         GOVERNED):
                error = refusal
            elif not reason:
                error = "NodeLicense: empty reason"
            else:
                error = None
            if error:
                self.assert_reverts(error, "revoke", [token_id, reason], actors[actor])
                return
            tx = license.revoke(token_id, reason, sender=actors[actor])
            del self.tokens[token_id]
            self.record(tx)
            self.assert_reverts("erc721: invalid token ID", "ownerOf", [token_id], mallory)
            self.assert_reverts(NONEXISTENT, "license_of", [token_id], mallory)

        @rule(
            actor=as_actor("admin"),
            token_id=token_ids,
            to=st.sampled_from(range(len(holders))),
            reason=reasons,
        )
        def reassign(self, actor, token_id, to, reason):
            token_id = self.token(token_id)
            new_owner = holders[to].address
            if roles.get(actor) != "admin":
                error = MISSING_ROLE
            elif not reason:
                error = "NodeLicense: empty reason"
            elif token_id not in self.tokens:
                error = NONEXISTENT
            elif self.tokens[token_id][0] == new_owner:
                error = "NodeLicense: already the owner"
            elif self.holds(new_owner, self.tokens[token_id][1]):
                error = "NodeLicense: owner already licensed"
            else:
                error = None
            if error:
                self.assert_reverts(error, "reassign", [token_id, new_owner, reason], actors[actor])
                return
            tx = license.reassign(token_id, new_owner, reason, sender=actors[actor])
            self.tokens[token_id][0] = new_owner
            self.record(tx, token_id)

        @rule(actor=as_actor("admin"), node_type=node_types, cap=caps)
        def set_supply_cap(self, actor, node_type, cap):
            if roles.get(actor) != "admin":
                error = MISSING_ROLE
            elif node_type not in NODE_TYPES:
                error = "NodeLicense: invalid node type"
            elif cap and cap < self.supply(node_type):
                error = "NodeLicense: cap below supply"
            else:
                error = None
            if error:
                self.assert_reverts(error, "set_supply_cap", [node_type, cap], actors[actor])
                return
            tx = license.set_supply_cap(node_type, cap, sender=actors[actor])
            self.caps[node_type] = cap
            self.record(tx)

        @rule(actor=as_actor("pauser"), toggle=st.integers(min_value=0, max_value=3))
        def pause_or_unpause(self, actor, toggle):
            pause = (not self.paused) if toggle else self.paused  # 1 in 4: the wrong way
            call = license.pause if pause else license.unpause
            if roles.get(actor) != "pauser":
                error = MISSING_ROLE
            elif pause and self.paused:
                error = PAUSED
            elif not pause and not self.paused:
                error = NOT_PAUSED
            else:
                error = None
            if error:
                self.assert_reverts(error, "pause" if pause else "unpause", [], actors[actor])
                return
            tx = call(sender=actors[actor])
            self.paused = pause
            self.record(tx)

        @rule(
            actor=st.sampled_from(sorted(actors)),
            token_id=token_ids,
            to=st.sampled_from(range(len(holders))),
            how=st.sampled_from(["transferFrom", "safeTransferFrom", "approve", "operator"]),
        )
        def attempt_transfer(self, actor, token_id, to, how):
            token_id = self.token(token_id)
            # The token's real owner tries too: nobody may move or approve a license.
            sender = actors[actor]
            if token_id in self.tokens and actor == "alice":
                sender = next(h for h in holders if h.address == self.tokens[token_id][0])
            owner = self.tokens.get(token_id, [sender.address])[0]
            target = holders[to]
            if how == "transferFrom" or how == "safeTransferFrom":
                self.assert_reverts(SOULBOUND, how, [owner, target.address, token_id], sender)
            elif how == "approve":
                self.assert_reverts(SOULBOUND, how, [target.address, token_id], sender)
            else:
                self.assert_reverts(SOULBOUND, "setApprovalForAll", [target.address, True], sender)

        # --- invariants ---------------------------------------------------------------

        @invariant()
        def chain_matches_model(self):
            """Per-type supply, cap and Active count, total supply, pause flag and the
            license touched by the last step agree with the model (one batched read)."""
            if not hasattr(self, "snapshot"):
                return
            with web3.batch_requests() as batch:
                for t in NODE_TYPES:
                    batch.add(views.supply_of(t))
                    batch.add(views.supply_cap(t))
                    batch.add(views.active_count(t))
                batch.add(views.totalSupply())
                batch.add(views.paused())
                touched = self.touched if self.touched in self.tokens else None
                if touched is not None:
                    owner, node_type, _ = self.tokens[touched]
                    for call in self.token_reads(touched, owner, node_type):
                        batch.add(call)
                results = batch.execute()
            active = self.active_counts()
            for n, t in enumerate(NODE_TYPES):
                supply, cap, active_count = results[3 * n : 3 * n + 3]
                assert supply == self.supply(t)
                assert cap == self.caps[t]
                assert cap == 0 or supply <= cap
                assert active_count == active[t]
            assert results[9] == len(self.tokens)
            assert results[10] == self.paused
            if touched is not None:
                self.check_token(touched, results[11:])

        # --- full checks --------------------------------------------------------------

        def token_reads(self, token_id, owner, node_type):
            return [
                views.ownerOf(token_id),
                views.license_of(token_id),
                views.token_of(owner, node_type),
                views.is_active(owner, node_type),
                views.getApproved(token_id),
            ]

        def check_token(self, token_id, results=None):
            """ownerOf, license_of, token_of, is_active agree with the model; no approval."""
            owner, node_type, status = self.tokens[token_id]
            if results is None:
                results = [c.call() for c in self.token_reads(token_id, owner, node_type)]
            owner_of, data, token_of, is_active, approved = results
            assert owner_of == owner
            assert (data[0], data[1]) == (node_type, status)
            assert token_of == token_id
            assert is_active == (status == ACTIVE)
            assert approved == ZERO_ADDRESS

        def check_history(self):
            for token_id in self.tokens:
                self.check_token(token_id)
            for holder in holders:
                for t in NODE_TYPES:
                    live = [
                        i
                        for i, (o, nt, _) in self.tokens.items()
                        if o == holder.address and nt == t
                    ]
                    assert views.token_of(holder.address, t).call() == (live[0] if live else 0)
                    for other in holders:
                        assert views.isApprovedForAll(holder.address, other.address).call() is False
            chain.mine()
            # The last record of each block is that block's final state.
            final = dict(self.history)
            for block, counts in final.items():
                for t in NODE_TYPES:
                    assert views.active_count_at(t, block).call() == counts[t]

    run_state_machine_as_test(
        LicenseMachine,
        # No shrinking: replaying against a chain is slow (minutes) and a failure's full
        # step list is printed anyway.
        settings=settings(
            max_examples=10,
            stateful_step_count=30,
            deadline=None,
            phases=[Phase.explicit, Phase.reuse, Phase.generate],
        ),
    )
