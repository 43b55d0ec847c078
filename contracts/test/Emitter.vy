# pragma version 0.4.3
"""
@title Event emitter for the indexer benchmark
@notice Test-only: emits many small events per transaction so a benchmark can put
        100,000 logs on a local chain quickly. Never deployed outside tests.
"""

event Ping:
    seq: indexed(uint256)
    sender: indexed(address)
    amount: uint256
    tag: bytes32


@external
def emit_many(start: uint256, count: uint256):
    """
    @notice Emits `count` Ping events numbered from `start`.
    """
    for i: uint256 in range(count, bound=2000):
        log Ping(seq=start + i, sender=msg.sender, amount=i * 7, tag=convert(start + i, bytes32))
