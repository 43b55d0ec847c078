# pragma version ~=0.4.3
# pragma nonreentrancy off
"""
@title EIP-1271 Wallet Mock (tests only)
@custom:contract-name ERC1271WalletMock
@license GNU Affero General Public License v3.0 only
@notice A minimal contract wallet that accepts a signature when it is an
        ECDSA signature of the hash by its owner. Used to test that
        NodeGovernor's `cast_vote_by_sig` accepts EIP-1271 wallets.
        Not deployed in production.
"""


from snekmate.utils import ecdsa


_MAGIC_VALUE: constant(bytes4) = 0x1626BA7E
_INVALID: constant(bytes4) = 0xFFFFFFFF


# @dev The key that signs for this wallet.
owner: public(immutable(address))


@deploy
def __init__(owner_: address):
    """
    @param owner_ The key that signs for this wallet.
    """
    owner = owner_


@external
@view
def isValidSignature(hash: bytes32, signature: Bytes[65]) -> bytes4:
    """
    @notice EIP-1271: the magic value 0x1626ba7e when `signature` is the
            owner's ECDSA signature of `hash`, else 0xffffffff.
    @param hash The signed digest.
    @param signature The owner's 65-byte signature.
    @return bytes4 The EIP-1271 answer.
    """
    if ecdsa._recover_sig(hash, signature) == owner:
        return _MAGIC_VALUE
    return _INVALID
