"""The decoder's fast word path agrees with eth_abi; odd logs are kept raw; RPC error parsing."""

from __future__ import annotations

from datetime import UTC, datetime

import orjson
from eth_abi import encode
from eth_abi.decoding import ContextFramesBytesIO
from hypothesis import given, settings
from hypothesis import strategies as st

from indexer.decode import EventDecoder, EventSpec, to_json
from indexer.rpc import RangeTooLarge, RpcError, _raise_error
from noderr.deployment import ContractDeployment, Deployment

PING = {"type": "event", "name": "Ping", "anonymous": False, "inputs": [
    {"name": "seq", "type": "uint256", "indexed": True},
    {"name": "who", "type": "address", "indexed": True},
    {"name": "amount", "type": "uint256", "indexed": False},
    {"name": "small", "type": "int16", "indexed": False},
    {"name": "flag", "type": "bool", "indexed": False},
    {"name": "tag", "type": "bytes4", "indexed": False}]}
MIXED = {"type": "event", "name": "Mixed", "anonymous": False, "inputs": [
    {"name": "note", "type": "string", "indexed": True},
    {"name": "values", "type": "uint256[]", "indexed": False},
    {"name": "text", "type": "string", "indexed": False}]}
ADDRESS = "0x" + "ab" * 20


def _raw(spec: EventSpec, topics: list[str], data: bytes) -> dict:
    return {"address": ADDRESS, "topics": [spec.topic0, *topics], "data": "0x" + data.hex(),
            "blockHash": "0x" + "11" * 32, "blockNumber": "0x5", "blockTimestamp": "0x10",
            "transactionHash": "0x" + "22" * 32, "transactionIndex": "0x0", "logIndex": "0x3"}


def _decoder() -> EventDecoder:
    deployment = Deployment(chain_id=1, deployer=ADDRESS, contracts={"C": ContractDeployment(
        address=ADDRESS, abi=[PING, MIXED], block=1, tx_hash="0x")})
    return EventDecoder(deployment)


@settings(max_examples=200, deadline=None)
@given(amount=st.integers(0, 2**256 - 1), small=st.integers(-(2**15), 2**15 - 1),
       flag=st.booleans(), tag=st.binary(min_size=4, max_size=4), seq=st.integers(0, 2**256 - 1))
def test_fast_path__equals_eth_abi(amount, small, flag, tag, seq):
    decoder = _decoder()
    spec = next(s for s in decoder.specs.values() if s.name == "Ping")
    assert spec.fast_words is not None
    data = encode(["uint256", "int16", "bool", "bytes4"], [amount, small, flag, tag])
    topics = ["0x" + seq.to_bytes(32, "big").hex(), "0x" + "00" * 12 + "cd" * 20]
    event = decoder.decode(_raw(spec, topics, data))
    decoded = spec.tuple_decoder(ContextFramesBytesIO(data))
    slow = [to_json(i)(v) for i, v in zip(PING["inputs"][2:], decoded, strict=True)]
    assert list(event.args.values())[2:] == slow
    assert event.args["seq"] == str(seq) and event.args["who"] == "0x" + "cd" * 20
    assert event.block_timestamp == datetime.fromtimestamp(16, UTC)
    orjson.dumps(event.args)  # every value is JSON-safe (big integers are strings)


def test_dynamic_event__decoded_by_eth_abi_and_nul_replaced():
    decoder = _decoder()
    spec = next(s for s in decoder.specs.values() if s.name == "Mixed")
    assert spec.fast_words is None
    data = encode(["uint256[]", "string"], [[1, 2**200], "a\x00b"])
    event = decoder.decode(_raw(spec, ["0x" + "33" * 32], data))
    assert event.args == {"note": "0x" + "33" * 32, "values": ["1", str(2**200)],
                          "text": "a\ufffdb"}


def test_unknown_or_malformed_logs__kept_raw_without_args():
    decoder = _decoder()
    spec = next(s for s in decoder.specs.values() if s.name == "Ping")
    unknown = {**_raw(spec, [], b""), "topics": ["0x" + "99" * 32]}
    short = _raw(spec, ["0x" + "00" * 32, "0x" + "00" * 32], b"\x01")
    for raw in (unknown, short):
        event = decoder.decode(raw)
        assert event.args is None and event.data == raw["data"]
    assert decoder.decode(unknown).event_name is None
    assert decoder.decode(short).event_name == "Ping"


def test_rpc_errors__range_too_large_carries_the_suggestion():
    try:
        _raise_error("eth_getLogs", {"code": -32005, "message": "query returned more than 10000"
                                     " results. Try with this block range [0x10, 0x1f]."})
    except RangeTooLarge as error:
        assert error.suggested == (16, 31)
    try:
        _raise_error("eth_call", {"code": -32601, "message": "method not found"})
    except RangeTooLarge:
        raise AssertionError("not a range error") from None
    except RpcError as error:
        assert error.code == -32601
