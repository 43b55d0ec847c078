# pragma version ~=0.4.3
# pragma nonreentrancy off
"""
@title Plain snekmate ERC-721 (test only)
@custom:contract-name PlainERC721
@license MIT
@notice snekmate's `erc721` module composed with `ownable` and nothing
        else, like snekmate's own `erc721_mock`. The gas benchmark
        (`benchmarks/gas.py`) uses its `safe_mint` as the baseline a
        NodeLicense mint is compared with. Not deployed anywhere.
"""


from snekmate.auth import ownable
initializes: ownable

from snekmate.tokens import erc721
initializes: erc721[ownable := ownable]

exports: erc721.__interface__


@deploy
@payable
def __init__(
    name_: String[25], symbol_: String[5], base_uri_: String[80], name_eip712_: String[50], version_eip712_: String[20]
):
    """
    @notice Deploys the collection; the deployer becomes owner and minter.
    @param name_ The collection name.
    @param symbol_ The collection symbol.
    @param base_uri_ The base URI prepended to each token URI.
    @param name_eip712_ The EIP-712 domain name.
    @param version_eip712_ The EIP-712 domain version.
    """
    ownable.__init__()
    erc721.__init__(name_, symbol_, base_uri_, name_eip712_, version_eip712_)
