# pragma version ~=0.4.3
# pragma nonreentrancy off
"""
@title Noderr Node License
@custom:contract-name NodeLicense
@license MIT
@notice A soulbound ERC-721 (ERC-5192) license to run a node of the Noderr
        network. Each token carries a node type (1 Oracle, 2 Guardian,
        3 Validator), a status (1 Active, 2 Suspended; a revoked license
        is burned), the block it was minted in and the id of the
        application it was granted for.
        Roles (snekmate `access_control`):
        - `DEFAULT_ADMIN_ROLE` grants and revokes every role, sets the
          per-type supply caps, reassigns a license to a new address
          (lost key) and alone mints, suspends, reinstates and revokes
          Validator licenses. The deployer receives it and mints the
          genesis Validators; the deploy script then hands it to the
          timelock and renounces it, so from then on only a passed
          governance proposal changes who votes.
        - `MINTER_ROLE` mints Oracle and Guardian licenses.
        - `REVOKER_ROLE` suspends, reinstates and revokes Oracle and
          Guardian licenses.
        - `PAUSER_ROLE` pauses and unpauses.
        No holder of MINTER, REVOKER or PAUSER can create or remove
        voting power: a Validator license's lifecycle belongs to
        governance ("NodeLicense: validators are admitted by governance",
        "NodeLicense: validators are governed by governance").
        While paused, the operational roles' `mint` and `reinstate`
        revert (nothing that grants a privilege); `suspend` and `revoke`
        keep working, so an emergency never blocks a revocation. The
        pause never binds DEFAULT_ADMIN_ROLE (`reassign`, the Validator
        lifecycle, `set_supply_cap`): a pauser must not be able to hold
        back a passed proposal until its grace period runs out.
        Licenses cannot be transferred or approved: `transferFrom`,
        `safeTransferFrom`, `approve`, `setApprovalForAll` and `permit`
        always revert with "NodeLicense: soulbound".
        An address holds at most one live license per node type, hence at
        most three licenses in all.
        For governance, two histories are checkpointed per block, so that
        a proposal's snapshot block can be read after the fact:
        - per node type, the live supply and the number of Active
          licenses (`supply_at`, `active_count_at`);
        - per account, the Active Validator license it holds
          (`validator_license_at`). At every block each Active Validator
          license belongs to exactly one account, so one license is
          never two votes.
        `validator_set_nonce` moves whenever the set of Active Validator
        holders changes, so a verifier (NodeFeed) can cache a list of
        them it has checked once.
"""


from ethereum.ercs import IERC165
implements: IERC165

from ethereum.ercs import IERC721
implements: IERC721

from snekmate.tokens.interfaces import IERC721Enumerable
implements: IERC721Enumerable

from snekmate.auth.interfaces import IAccessControl
implements: IAccessControl

from interfaces import INodeLicense
implements: INodeLicense


from snekmate.auth import ownable as ow
initializes: ow

from snekmate.tokens import erc721
initializes: erc721[ownable := ow]

from snekmate.auth import access_control
initializes: access_control

from snekmate.utils import pausable
initializes: pausable

from snekmate.utils import base64

from modules import checkpoints
initializes: checkpoints


exports: (
    erc721.balanceOf,
    erc721.ownerOf,
    erc721.getApproved,
    erc721.isApprovedForAll,
    erc721.name,
    erc721.symbol,
    erc721.totalSupply,
    erc721.tokenByIndex,
    erc721.tokenOfOwnerByIndex,
    access_control.hasRole,
    access_control.getRoleAdmin,
    access_control.grantRole,
    access_control.revokeRole,
    access_control.renounceRole,
    access_control.DEFAULT_ADMIN_ROLE,
    pausable.paused,
)


# @dev Collection name and symbol.
NAME: constant(String[25]) = "Noderr Node License"
SYMBOL: constant(String[5]) = "NODE"

# @dev Roles (the admin role is `access_control.DEFAULT_ADMIN_ROLE`).
MINTER_ROLE: public(constant(bytes32)) = keccak256("MINTER_ROLE")
REVOKER_ROLE: public(constant(bytes32)) = keccak256("REVOKER_ROLE")
PAUSER_ROLE: public(constant(bytes32)) = keccak256("PAUSER_ROLE")

# @dev Node types (ABI: other contracts and services rely on the codes).
ORACLE: public(constant(uint8)) = 1
GUARDIAN: public(constant(uint8)) = 2
VALIDATOR: public(constant(uint8)) = 3

# @dev License statuses. A revoked license is burned.
ACTIVE: public(constant(uint8)) = 1
SUSPENDED: public(constant(uint8)) = 2

# @dev An owner holds at most one live license per node type.
_MAX_LICENSES_PER_OWNER: constant(uint256) = 3

# @dev ERC-165 identifiers: ERC-165, ERC-721, ERC-721 Metadata,
# ERC-721 Enumerable, ERC-5192 and IAccessControl. ERC-4494 (permit)
# and ERC-4906 are deliberately NOT supported.
_SUPPORTED_INTERFACES: constant(bytes4[6]) = [
    0x01FFC9A7,
    0x80AC58CD,
    0x5B5E139F,
    0x780E9D63,
    0xB45A3C0E,
    0x7965DB0B,
]

# @dev Bit layout of a packed license: node type (bits 0-7), status
# (bits 8-15), minted block (bits 16-255).
_STATUS_SHIFT: constant(uint256) = 8
_BLOCK_SHIFT: constant(uint256) = 16
_BYTE_MASK: constant(uint256) = 255

# @dev Bit layout of a packed per-type record: live supply (bits 0-63),
# supply cap (64-127), Active count (128-191), number of checkpoints of
# the counts (192-223), and for Validators the nonce of the Active set
# (224-255, `validator_set_nonce`; wraps after 2**32 changes), kept in
# this slot so a membership change pays no extra storage write.
_CAP_SHIFT: constant(uint256) = 64
_ACTIVE_SHIFT: constant(uint256) = 128
_CKPT_SHIFT: constant(uint256) = 192
_NONCE_SHIFT: constant(uint256) = 224
_U64_MASK: constant(uint256) = (1 << 64) - 1
_U32_MASK: constant(uint256) = (1 << 32) - 1

# @dev A per-type checkpoint holds the Active count (bits 0-63) and the
# live supply (bits 64-127).
_CKPT_SUPPLY_SHIFT: constant(uint256) = 64

# @dev Checkpoint keys: node types use their code (1-3), an account's
# Validator history uses its address with bit 160 set.
_ACCOUNT_KEY_FLAG: constant(uint256) = 1 << 160

# @dev Revert reasons of a Validator mint, and of a Validator suspend,
# reinstate or revoke, by anyone but DEFAULT_ADMIN_ROLE.
_ADMITTED: constant(String[50]) = "NodeLicense: validators are admitted by governance"
_GOVERNED: constant(String[50]) = "NodeLicense: validators are governed by governance"

# @dev Sizes of the on-chain metadata.
_JSON_BOUND: constant(uint256) = 1_024
_URI_BOUND: constant(uint256) = 1_400
_URI_PREFIX: constant(String[29]) = "data:application/json;base64,"


# @dev Token id => packed (node type, status, minted block); 0 = no live license.
_licenses: HashMap[uint256, uint256]

# @dev Token id => application id of a live license.
_application_ids: HashMap[uint256, bytes32]

# @dev Application id => the token minted for it (kept after revocation,
# so an application can be used only once).
_application_tokens: HashMap[bytes32, uint256]

# @dev Node type => packed (supply, cap, active, checkpoint count).
_types: HashMap[uint8, uint256]

# @dev The last token id minted (token ids start at 1).
_last_token_id: uint256

# @dev Account => number of checkpoints of its Validator history.
_validator_history_lengths: HashMap[address, uint256]


# @dev ERC-5192: emitted when a token becomes locked (at mint).
event Locked:
    tokenId: uint256


# @notice A license was minted.
# @param token_id The new token id.
# @param owner The license holder.
# @param actor The account that minted it: MINTER_ROLE for Oracle and
#        Guardian, DEFAULT_ADMIN_ROLE (the timelock, or the deployer for
#        the genesis Validators) for Validator.
# @param node_type 1 Oracle, 2 Guardian, 3 Validator.
# @param application_id The id of the application the license was granted for.
event LicenseMinted:
    token_id: indexed(uint256)
    owner: indexed(address)
    actor: indexed(address)
    node_type: uint8
    application_id: bytes32


# @notice An Active license was suspended.
# @param token_id The token id.
# @param owner The license holder.
# @param actor The account that suspended it: REVOKER_ROLE, or
#        DEFAULT_ADMIN_ROLE for a Validator license.
# @param reason Why (free text, shown to auditors).
event LicenseSuspended:
    token_id: indexed(uint256)
    owner: indexed(address)
    actor: indexed(address)
    reason: String[256]


# @notice A Suspended license was made Active again.
# @param token_id The token id.
# @param owner The license holder.
# @param actor The account that reinstated it: REVOKER_ROLE, or
#        DEFAULT_ADMIN_ROLE for a Validator license.
event LicenseReinstated:
    token_id: indexed(uint256)
    owner: indexed(address)
    actor: indexed(address)


# @notice A license was revoked (burned).
# @param token_id The token id.
# @param owner The former license holder.
# @param actor The account that revoked it: REVOKER_ROLE, or
#        DEFAULT_ADMIN_ROLE for a Validator license.
# @param node_type The node type of the revoked license.
# @param reason Why (free text, shown to auditors).
event LicenseRevoked:
    token_id: indexed(uint256)
    owner: indexed(address)
    actor: indexed(address)
    node_type: uint8
    reason: String[256]


# @notice A license was moved to a new address by the admin (lost key).
# @param token_id The token id.
# @param previous_owner The former holder.
# @param actor The DEFAULT_ADMIN_ROLE account that reassigned it.
# @param new_owner The new holder.
# @param reason Why (free text, shown to auditors).
event LicenseReassigned:
    token_id: indexed(uint256)
    previous_owner: indexed(address)
    actor: indexed(address)
    new_owner: address
    reason: String[256]


# @notice The supply cap of a node type changed.
# @param node_type The node type.
# @param actor The DEFAULT_ADMIN_ROLE account that set it.
# @param previous_cap The former cap (0 = no cap).
# @param new_cap The new cap (0 = no cap).
event SupplyCapSet:
    node_type: indexed(uint8)
    actor: indexed(address)
    previous_cap: uint256
    new_cap: uint256


@deploy
@payable
def __init__():
    """
    @dev The deployer receives DEFAULT_ADMIN_ROLE only. snekmate's
         `erc721` also records the deployer as its `owner` and minter;
         that state is unreachable because none of the functions that
         use it (`safe_mint`, `set_minter`, `burn`, `transfer_ownership`,
         `renounce_ownership`, `permit`) is exported.
    """
    ow.__init__()
    erc721.__init__(NAME, SYMBOL, "", NAME, "1")
    access_control.__init__()
    pausable.__init__()
    checkpoints.__init__()


# ---------------------------------------------------------------------------
# ERC-165 / ERC-5192
# ---------------------------------------------------------------------------


@external
@view
def supportsInterface(interface_id: bytes4) -> bool:
    """
    @notice ERC-165 interface detection.
    @dev Supported: ERC-165, ERC-721, ERC-721 Metadata, ERC-721
         Enumerable, ERC-5192 (minimal soulbound) and IAccessControl.
    @param interface_id The 4-byte interface identifier.
    @return bool True when the contract implements `interface_id`.
    """
    return interface_id in _SUPPORTED_INTERFACES


@external
@view
def locked(token_id: uint256) -> bool:
    """
    @notice ERC-5192: every live license is locked (soulbound).
    @dev Reverts for a token that does not exist, as EIP-5192 requires.
    @param token_id The token id.
    @return bool Always True for a live token.
    """
    self._packed_license(token_id)
    return True


# ---------------------------------------------------------------------------
# Soulbound: transfers and approvals are disabled
# ---------------------------------------------------------------------------


@external
@payable
def transferFrom(owner: address, to: address, token_id: uint256):
    """
    @notice Disabled: licenses are soulbound. Always reverts.
    @dev An admin moves a license to a new address with `reassign`.
    @param owner Ignored.
    @param to Ignored.
    @param token_id Ignored.
    """
    raise "NodeLicense: soulbound"


@external
@payable
def safeTransferFrom(owner: address, to: address, token_id: uint256, data: Bytes[1_024] = b""):
    """
    @notice Disabled: licenses are soulbound. Always reverts.
    @dev Both ERC-721 overloads (with and without `data`) revert.
    @param owner Ignored.
    @param to Ignored.
    @param token_id Ignored.
    @param data Ignored.
    """
    raise "NodeLicense: soulbound"


@external
@payable
def approve(to: address, token_id: uint256):
    """
    @notice Disabled: licenses are soulbound. Always reverts.
    @param to Ignored.
    @param token_id Ignored.
    """
    raise "NodeLicense: soulbound"


@external
def setApprovalForAll(operator: address, approved: bool):
    """
    @notice Disabled: licenses are soulbound. Always reverts.
    @param operator Ignored.
    @param approved Ignored.
    """
    raise "NodeLicense: soulbound"


@external
def permit(spender: address, token_id: uint256, deadline: uint256, v: uint8, r: bytes32, s: bytes32):
    """
    @notice Disabled: licenses are soulbound, so EIP-4494 approvals by
            signature are not offered. Always reverts.
    @param spender Ignored.
    @param token_id Ignored.
    @param deadline Ignored.
    @param v Ignored.
    @param r Ignored.
    @param s Ignored.
    """
    raise "NodeLicense: soulbound"


# ---------------------------------------------------------------------------
# License lifecycle
# ---------------------------------------------------------------------------


@external
def mint(to: address, node_type: uint8, application_id: bytes32) -> uint256:
    """
    @notice Mints an Active license of `node_type` to `to` for the
            application `application_id`.
    @dev A Validator license is minted only by DEFAULT_ADMIN_ROLE (the
         timelock executing a passed proposal, or the deployer minting
         the genesis Validators before it renounces), paused or not;
         Oracle and Guardian licenses by MINTER_ROLE, reverting while
         paused. Token ids
         start at 1 and are sequential. `to` must not already hold a live
         license of `node_type`; an application id can be used only once,
         even after the license minted for it is revoked. The live supply
         of `node_type` must stay within its cap (0 = no cap). No
         `onERC721Received` hook is called: the license cannot leave `to`
         anyway. Emits `Transfer`, `Locked` and `LicenseMinted`.
    @param to The license holder; not the zero address.
    @param node_type 1 Oracle, 2 Guardian or 3 Validator.
    @param application_id The application's id; not empty, never used before.
    @return uint256 The new token id.
    """
    self._check_caller(node_type, MINTER_ROLE, True, _ADMITTED)
    self._check_node_type(node_type)
    assert to != empty(address), "NodeLicense: mint to the zero address"
    assert application_id != empty(bytes32), "NodeLicense: empty application id"
    assert self._application_tokens[application_id] == 0, "NodeLicense: application already used"
    assert self._token_of(to, node_type) == 0, "NodeLicense: owner already licensed"

    record: uint256 = self._types[node_type]
    supply: uint256 = record & _U64_MASK
    cap: uint256 = (record >> _CAP_SHIFT) & _U64_MASK
    assert cap == 0 or supply < cap, "NodeLicense: supply cap reached"
    active: uint256 = unsafe_add((record >> _ACTIVE_SHIFT) & _U64_MASK, 1)
    self._set_counts(node_type, record, unsafe_add(supply, 1), active)

    token_id: uint256 = unsafe_add(self._last_token_id, 1)
    self._last_token_id = token_id
    self._licenses[token_id] = (
        (block.number << _BLOCK_SHIFT) | (convert(ACTIVE, uint256) << _STATUS_SHIFT) | convert(node_type, uint256)
    )
    self._application_ids[token_id] = application_id
    self._application_tokens[application_id] = token_id
    erc721._mint(to, token_id)
    if node_type == VALIDATOR:
        self._checkpoint_validator(to, token_id)

    log Locked(tokenId=token_id)
    log LicenseMinted(token_id=token_id, owner=to, actor=msg.sender, node_type=node_type, application_id=application_id)
    return token_id


@external
def suspend(token_id: uint256, reason: String[256]):
    """
    @notice Suspends an Active license: the holder keeps the token but
            `is_active` turns False and it stops counting as Active.
    @dev Caller must hold REVOKER_ROLE, or DEFAULT_ADMIN_ROLE for a
         Validator license (suspending validators before a snapshot
         would take their votes). Works while paused. A Validator license
         keeps its vote on proposals whose snapshot block is already
         mined (`validator_license_at`). Emits `LicenseSuspended`.
    @param token_id A live, Active license.
    @param reason Why; must not be empty.
    """
    packed: uint256 = self._packed_license(token_id)
    self._check_caller(self._node_type(packed), REVOKER_ROLE, False, _GOVERNED)
    assert len(reason) != 0, "NodeLicense: empty reason"
    assert self._status(packed) == ACTIVE, "NodeLicense: not active"
    self._licenses[token_id] = self._with_status(packed, SUSPENDED)
    node_type: uint8 = self._node_type(packed)
    self._add_active(node_type, False)
    owner: address = erc721._owners[token_id]
    if node_type == VALIDATOR:
        self._checkpoint_validator(owner, 0)
    log LicenseSuspended(token_id=token_id, owner=owner, actor=msg.sender, reason=reason)


@external
def reinstate(token_id: uint256):
    """
    @notice Makes a Suspended license Active again.
    @dev Caller must hold REVOKER_ROLE, and the contract must not be
         paused (it grants a privilege back); a Validator license is
         reinstated only by DEFAULT_ADMIN_ROLE, paused or not. A
         Validator license votes again only on proposals whose snapshot
         block is this one or later. Emits `LicenseReinstated`.
    @param token_id A live, Suspended license.
    """
    packed: uint256 = self._packed_license(token_id)
    self._check_caller(self._node_type(packed), REVOKER_ROLE, True, _GOVERNED)
    assert self._status(packed) == SUSPENDED, "NodeLicense: not suspended"
    self._licenses[token_id] = self._with_status(packed, ACTIVE)
    node_type: uint8 = self._node_type(packed)
    self._add_active(node_type, True)
    owner: address = erc721._owners[token_id]
    if node_type == VALIDATOR:
        self._checkpoint_validator(owner, token_id)
    log LicenseReinstated(token_id=token_id, owner=owner, actor=msg.sender)


@external
def revoke(token_id: uint256, reason: String[256]):
    """
    @notice Revokes a license (Active or Suspended) by burning it.
    @dev Caller must hold REVOKER_ROLE, or DEFAULT_ADMIN_ROLE for a
         Validator license (revoking validators would lower the quorum).
         Works while paused. The application id stays used. The former
         holder of an Active
         Validator license keeps its vote on proposals whose snapshot
         block is already mined. Emits `Transfer` (to the zero address)
         and `LicenseRevoked`.
    @param token_id A live license.
    @param reason Why; must not be empty.
    """
    packed: uint256 = self._packed_license(token_id)
    node_type: uint8 = self._node_type(packed)
    self._check_caller(node_type, REVOKER_ROLE, False, _GOVERNED)
    assert len(reason) != 0, "NodeLicense: empty reason"
    owner: address = erc721._owners[token_id]

    record: uint256 = self._types[node_type]
    active: uint256 = (record >> _ACTIVE_SHIFT) & _U64_MASK
    was_active: bool = self._status(packed) == ACTIVE
    if was_active:
        active = unsafe_sub(active, 1)
    self._set_counts(node_type, record, unsafe_sub(record & _U64_MASK, 1), active)
    if was_active and node_type == VALIDATOR:
        self._checkpoint_validator(owner, 0)

    self._licenses[token_id] = 0
    self._application_ids[token_id] = empty(bytes32)
    erc721._burn(token_id)
    log LicenseRevoked(token_id=token_id, owner=owner, actor=msg.sender, node_type=node_type, reason=reason)


@external
def reassign(token_id: uint256, to: address, reason: String[256]):
    """
    @notice Moves a license to a new address, e.g. when its holder lost
            the key. The license keeps its id, type, status, minted block
            and application id.
    @dev Caller must hold DEFAULT_ADMIN_ROLE; works while paused (the
         pause binds the operational roles, never governance). `to`
         must not already hold a live license of the same node type. On
         proposals whose snapshot block is already mined the previous
         holder votes with the license, `to` votes from the next snapshot
         on. Emits `Transfer` and `LicenseReassigned`.
    @param token_id A live license.
    @param to The new holder; not the zero address nor the current holder.
    @param reason Why; must not be empty.
    """
    access_control._check_role(access_control.DEFAULT_ADMIN_ROLE, msg.sender)
    assert len(reason) != 0, "NodeLicense: empty reason"
    packed: uint256 = self._packed_license(token_id)
    assert to != empty(address), "NodeLicense: reassign to the zero address"
    previous_owner: address = erc721._owners[token_id]
    assert to != previous_owner, "NodeLicense: already the owner"
    node_type: uint8 = self._node_type(packed)
    assert self._token_of(to, node_type) == 0, "NodeLicense: owner already licensed"
    erc721._transfer(previous_owner, to, token_id)
    if node_type == VALIDATOR and self._status(packed) == ACTIVE:
        self._checkpoint_validator(previous_owner, 0)
        self._checkpoint_validator(to, token_id)
        self._types[VALIDATOR] = unsafe_add(self._types[VALIDATOR], 1 << _NONCE_SHIFT)
    log LicenseReassigned(
        token_id=token_id, previous_owner=previous_owner, actor=msg.sender, new_owner=to, reason=reason
    )


@external
def set_supply_cap(node_type: uint8, cap: uint256):
    """
    @notice Sets the maximum number of live (Active or Suspended)
            licenses of `node_type`. A cap of 0 means no cap (the
            default).
    @dev Caller must hold DEFAULT_ADMIN_ROLE. Works while paused. A
         non-zero cap must not be below the current live supply and must
         fit in 64 bits. Emits `SupplyCapSet`.
    @param node_type 1 Oracle, 2 Guardian or 3 Validator.
    @param cap The new cap; 0 removes the cap.
    """
    access_control._check_role(access_control.DEFAULT_ADMIN_ROLE, msg.sender)
    self._check_node_type(node_type)
    assert cap <= _U64_MASK, "NodeLicense: cap too large"
    record: uint256 = self._types[node_type]
    supply: uint256 = record & _U64_MASK
    assert cap == 0 or cap >= supply, "NodeLicense: cap below supply"
    previous_cap: uint256 = (record >> _CAP_SHIFT) & _U64_MASK
    self._types[node_type] = (record & ~(_U64_MASK << _CAP_SHIFT)) | (cap << _CAP_SHIFT)
    log SupplyCapSet(node_type=node_type, actor=msg.sender, previous_cap=previous_cap, new_cap=cap)


@external
def pause():
    """
    @notice Pauses MINTER_ROLE's minting and REVOKER_ROLE's reinstating
            (Oracle and Guardian licenses).
    @dev Caller must hold PAUSER_ROLE; reverts when already paused.
         DEFAULT_ADMIN_ROLE's calls are never paused, so a pauser cannot
         hold back what a passed proposal executes; voting reads only
         checkpoints and is never paused either. Emits `Paused`.
    """
    access_control._check_role(PAUSER_ROLE, msg.sender)
    pausable._pause()


@external
def unpause():
    """
    @notice Lifts the pause.
    @dev Caller must hold PAUSER_ROLE; reverts when not paused.
         Emits `Unpaused`.
    """
    access_control._check_role(PAUSER_ROLE, msg.sender)
    pausable._unpause()


# ---------------------------------------------------------------------------
# Views
# ---------------------------------------------------------------------------


@external
@view
def license_of(token_id: uint256) -> INodeLicense.License:
    """
    @notice The license data of a live token.
    @dev Reverts for a token that does not exist (never minted or revoked).
    @param token_id The token id.
    @return License (node_type, status, minted_block, application_id).
    """
    packed: uint256 = self._packed_license(token_id)
    return INodeLicense.License(
        node_type=self._node_type(packed),
        status=self._status(packed),
        minted_block=packed >> _BLOCK_SHIFT,
        application_id=self._application_ids[token_id],
    )


@external
@view
def token_of(owner: address, node_type: uint8) -> uint256:
    """
    @notice The live license of `owner` for `node_type`.
    @dev Returns 0 (token ids start at 1) when there is none, also for
         the zero address and for an unknown node type.
    @param owner The address to look up.
    @param node_type The node type.
    @return uint256 The token id, or 0.
    """
    return self._token_of(owner, node_type)


@external
@view
def is_active(owner: address, node_type: uint8) -> bool:
    """
    @notice Whether `owner` holds an Active license of `node_type` now.
    @dev False for a Suspended license, no license, an unknown node type.
    @param owner The address to look up.
    @param node_type The node type.
    @return bool True when `owner`'s license of `node_type` is Active.
    """
    token_id: uint256 = self._token_of(owner, node_type)
    if token_id == 0:
        return False
    return self._status(self._licenses[token_id]) == ACTIVE


@external
@view
def active_count(node_type: uint8) -> uint256:
    """
    @notice The number of Active licenses of `node_type` now.
    @dev Reverts for an unknown node type.
    @param node_type The node type.
    @return uint256 The count.
    """
    self._check_node_type(node_type)
    return (self._types[node_type] >> _ACTIVE_SHIFT) & _U64_MASK


@external
@view
def validator_set_nonce() -> uint256:
    """
    @notice A number that changes whenever the set of Active Validator
            holders changes: a Validator minted, suspended, reinstated,
            revoked while Active, or reassigned while Active. Oracle and
            Guardian changes leave it. NodeFeed caches a verified list of
            the Active validators under it.
    @dev Kept modulo 2**32.
    @return uint256 The nonce.
    """
    return self._types[VALIDATOR] >> _NONCE_SHIFT


@external
@view
def active_count_at(node_type: uint8, block_number: uint256) -> uint256:
    """
    @notice The number of Active licenses of `node_type` at the end of
            block `block_number`.
    @dev Binary search over per-block checkpoints. Reverts for an
         unknown node type and for a block that is not yet mined
         (`block_number >= block.number`), so the value can no longer
         change once readable. Note that an `eth_call` against `latest`
         runs in the context of the head block, so the head block itself
         is "not yet mined" there: query `head - 1` or older.
    @param node_type The node type.
    @param block_number A past block number.
    @return uint256 The count.
    """
    return self._counts_at(node_type, block_number) & _U64_MASK


@external
@view
def supply_at(node_type: uint8, block_number: uint256) -> uint256:
    """
    @notice The number of live (Active or Suspended) licenses of
            `node_type` at the end of block `block_number`.
    @dev NodeGovernor's quorum base: suspending a license does not lower
         it. Same rules as `active_count_at`: reverts for an unknown node
         type and for a block not yet mined.
    @param node_type The node type.
    @param block_number A past block number.
    @return uint256 The live supply.
    """
    return self._counts_at(node_type, block_number) >> _CKPT_SUPPLY_SHIFT


@external
@view
def validator_license_at(account: address, block_number: uint256) -> uint256:
    """
    @notice The Active Validator license `account` held at the end of
            block `block_number`, or 0 when it held none then (no
            license, a Suspended one, or one minted later).
    @dev NodeGovernor's voting power: an account votes on a proposal
         with the license this returns for the proposal's snapshot block,
         whatever happens to the license afterwards (suspended, revoked
         or reassigned). A license reassigned away after that block
         stays with the previous holder for it, so the accounts with a
         non-zero answer number exactly `active_count_at(VALIDATOR,
         block_number)`. Binary search over per-account checkpoints;
         reverts for a block not yet mined, like `active_count_at`.
    @param account The address to look up.
    @param block_number A past block number.
    @return uint256 The token id, or 0.
    """
    assert block_number < block.number, "NodeLicense: future lookup"
    return checkpoints._upper_lookup(
        self._account_key(account), self._validator_history_lengths[account], block_number
    )


@external
@view
def supply_of(node_type: uint8) -> uint256:
    """
    @notice The number of live (Active or Suspended) licenses of `node_type`.
    @dev Reverts for an unknown node type.
    @param node_type The node type.
    @return uint256 The live supply.
    """
    self._check_node_type(node_type)
    return self._types[node_type] & _U64_MASK


@external
@view
def supply_cap(node_type: uint8) -> uint256:
    """
    @notice The supply cap of `node_type`; 0 means no cap.
    @dev Reverts for an unknown node type.
    @param node_type The node type.
    @return uint256 The cap.
    """
    self._check_node_type(node_type)
    return (self._types[node_type] >> _CAP_SHIFT) & _U64_MASK


@external
@view
def token_of_application(application_id: bytes32) -> uint256:
    """
    @notice The token minted for `application_id`, or 0 if none was.
    @dev Keeps answering after the license is revoked (the token then no
         longer exists): an application id can be used only once.
    @param application_id The application id.
    @return uint256 The token id, or 0.
    """
    return self._application_tokens[application_id]


@external
@view
def tokenURI(token_id: uint256) -> String[_URI_BOUND]:
    """
    @notice On-chain ERC-721 metadata: a `data:application/json;base64,`
            URI of a JSON document with the name, a description and the
            node type, status and minted block as attributes.
    @dev Reverts for a token that does not exist.
    @param token_id The token id.
    @return String The data URI.
    """
    packed: uint256 = self._packed_license(token_id)
    type_name: String[9] = self._type_name(self._node_type(packed))
    status_name: String[9] = "Active"
    if self._status(packed) == SUSPENDED:
        status_name = "Suspended"
    json: String[_JSON_BOUND] = concat(
        '{"name":"Noderr ',
        type_name,
        " License #",
        uint2str(token_id),
        '","description":"Soulbound license to run a Noderr ',
        type_name,
        ' node. Only an Active license grants access; revoked licenses are burned.",',
        '"attributes":[{"trait_type":"Node type","value":"',
        type_name,
        '"},{"trait_type":"Status","value":"',
        status_name,
        '"},{"display_type":"number","trait_type":"Minted block","value":',
        uint2str(packed >> _BLOCK_SHIFT),
        "}]}",
    )
    chunks: DynArray[String[4], base64._DATA_OUTPUT_BOUND] = base64._encode(convert(json, Bytes[_JSON_BOUND]), False)
    uri: String[_URI_BOUND] = _URI_PREFIX
    for chunk: String[4] in chunks:
        # `concat` widens the type by 4 characters; the round trip through
        # the ABI narrows it back (with a runtime length check).
        uri = abi_decode(abi_encode(concat(uri, chunk)), String[_URI_BOUND])
    return uri


# ---------------------------------------------------------------------------
# Internal helpers
# ---------------------------------------------------------------------------


@internal
def _check_caller(node_type: uint8, role: bytes32, pausable_call: bool, refusal: String[50]):
    """
    @dev Who may change a license of `node_type`: for a Validator
         license DEFAULT_ADMIN_ROLE alone (else reverts with `refusal`),
         never paused; for any other type `role`, and when
         `pausable_call` only while not paused.
    """
    if node_type == VALIDATOR:
        assert access_control.hasRole[access_control.DEFAULT_ADMIN_ROLE][msg.sender], refusal
        return
    access_control._check_role(role, msg.sender)
    if pausable_call:
        pausable._require_not_paused()


@internal
@pure
def _check_node_type(node_type: uint8):
    """
    @dev Reverts unless `node_type` is Oracle, Guardian or Validator.
    """
    assert node_type >= ORACLE and node_type <= VALIDATOR, "NodeLicense: invalid node type"


@internal
@view
def _packed_license(token_id: uint256) -> uint256:
    """
    @dev Returns the packed data of a live license; reverts when the
         token does not exist.
    """
    packed: uint256 = self._licenses[token_id]
    assert packed != 0, "NodeLicense: nonexistent token"
    return packed


@internal
@pure
def _node_type(packed: uint256) -> uint8:
    """
    @dev The node type of a packed license.
    """
    return convert(packed & _BYTE_MASK, uint8)


@internal
@pure
def _status(packed: uint256) -> uint8:
    """
    @dev The status of a packed license.
    """
    return convert((packed >> _STATUS_SHIFT) & _BYTE_MASK, uint8)


@internal
@pure
def _with_status(packed: uint256, status: uint8) -> uint256:
    """
    @dev A packed license with its status replaced by `status`.
    """
    return (packed & ~(_BYTE_MASK << _STATUS_SHIFT)) | (convert(status, uint256) << _STATUS_SHIFT)


@internal
@pure
def _pack_type(supply: uint256, cap: uint256, active: uint256, ckpt_len: uint256, nonce: uint256) -> uint256:
    """
    @dev Packs a per-type record; the counts are below 2**64, the
         checkpoint count and the nonce below 2**32.
    """
    return (
        supply | (cap << _CAP_SHIFT) | (active << _ACTIVE_SHIFT) | (ckpt_len << _CKPT_SHIFT) | (nonce << _NONCE_SHIFT)
    )


@internal
@view
def _counts_at(node_type: uint8, block_number: uint256) -> uint256:
    """
    @dev The packed per-type checkpoint (Active count, live supply) at
         the end of block `block_number`; reverts for an unknown node
         type or a block not yet mined.
    """
    self._check_node_type(node_type)
    assert block_number < block.number, "NodeLicense: future lookup"
    return checkpoints._upper_lookup(
        convert(node_type, uint256), (self._types[node_type] >> _CKPT_SHIFT) & _U32_MASK, block_number
    )


@internal
def _add_active(node_type: uint8, up: bool):
    """
    @dev Adds (`up`) or removes one Active license of `node_type` and
         checkpoints the new count at the current block.
    """
    record: uint256 = self._types[node_type]
    active: uint256 = (record >> _ACTIVE_SHIFT) & _U64_MASK
    if up:
        active = unsafe_add(active, 1)
    else:
        active = unsafe_sub(active, 1)
    self._set_counts(node_type, record, record & _U64_MASK, active)


@internal
def _set_counts(node_type: uint8, record: uint256, supply: uint256, active: uint256):
    """
    @dev Stores the new live supply and Active count of `node_type`, whose
         packed record is `record`, and checkpoints both at this block. A
         change of the Active Validator count moves the validator set's
         nonce.
    """
    ckpt_len: uint256 = checkpoints._push(
        convert(node_type, uint256), (record >> _CKPT_SHIFT) & _U32_MASK, active | (supply << _CKPT_SUPPLY_SHIFT)
    )
    nonce: uint256 = record >> _NONCE_SHIFT
    if node_type == VALIDATOR and active != (record >> _ACTIVE_SHIFT) & _U64_MASK:
        nonce = unsafe_add(nonce, 1) & _U32_MASK
    self._types[node_type] = self._pack_type(supply, (record >> _CAP_SHIFT) & _U64_MASK, active, ckpt_len, nonce)


@internal
def _checkpoint_validator(account: address, token_id: uint256):
    """
    @dev Records that from this block on `account` holds the Active
         Validator license `token_id` (0: none).
    """
    self._validator_history_lengths[account] = checkpoints._push(
        self._account_key(account), self._validator_history_lengths[account], token_id
    )


@internal
@pure
def _account_key(account: address) -> uint256:
    """
    @dev The checkpoint key of `account`'s Validator history.
    """
    return convert(account, uint256) | _ACCOUNT_KEY_FLAG


@internal
@view
def _token_of(owner: address, node_type: uint8) -> uint256:
    """
    @dev Scans the (at most three) enumerated tokens of `owner` for a
         live license of `node_type`; 0 when there is none.
    """
    balance: uint256 = erc721._balances[owner]
    for i: uint256 in range(balance, bound=_MAX_LICENSES_PER_OWNER):
        token_id: uint256 = erc721._owned_tokens[owner][i]
        if self._node_type(self._licenses[token_id]) == node_type:
            return token_id
    return 0


@internal
@pure
def _type_name(node_type: uint8) -> String[9]:
    """
    @dev The display name of a node type.
    """
    if node_type == ORACLE:
        return "Oracle"
    if node_type == GUARDIAN:
        return "Guardian"
    return "Validator"
