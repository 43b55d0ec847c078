"""Decoding raw logs with the ABIs of the deployment file, generically.

Every (contract address, topic0) pair gets its decoder built once. Events whose data holds
only static words (uint, int, address, bool, bytesN: most events) are decoded by slicing
32-byte words, about ten times faster than eth_abi; the rest go through a prebuilt eth_abi
TupleDecoder. tests/indexer/test_decode.py checks both paths agree with eth_abi.

JSON conventions for `chain_events.args` (the same for every event):
addresses and bytes are lowercase 0x-hex; integers of at most 48 bits are JSON numbers, wider
ones decimal strings (exact, and safe for JavaScript readers); indexed dynamic values
(string, bytes, arrays) are the topic, a keccak hash, as 0x-hex.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, NamedTuple

from eth_abi.decoding import ContextFramesBytesIO, TupleDecoder
from eth_abi.exceptions import DecodingError
from eth_abi.registry import registry
from eth_utils import keccak

from noderr.deployment import Deployment

log = logging.getLogger("noderr.indexer.decode")

Convert = Callable[[Any], Any]


class Event(NamedTuple):
    """One log, decoded; the fields of a `chain_events` row minus chain id."""

    block_number: int
    block_hash: str
    block_timestamp: datetime
    tx_hash: str
    tx_index: int
    log_index: int
    contract_name: str
    contract_address: str
    event_name: str | None
    args: dict[str, Any] | None
    topics: list[str]
    data: str


def canonical_type(item: dict[str, Any]) -> str:
    """The ABI type string of an input, tuples spelled out: `(uint256,address)[]`."""
    kind = item["type"]
    if not kind.startswith("tuple"):
        return kind
    inner = ",".join(canonical_type(c) for c in item["components"])
    return f"({inner}){kind[len('tuple'):]}"


def event_signature(abi: dict[str, Any]) -> str:
    return f"{abi['name']}({','.join(canonical_type(i) for i in abi['inputs'])})"


def to_json(item: dict[str, Any]) -> Convert:
    """A converter from eth_abi's Python value to the JSON value (module docstring)."""
    kind = item["type"]
    if kind.endswith("]"):
        element = to_json({**item, "type": kind[: kind.rindex("[")]})
        return lambda values: [element(v) for v in values]
    if kind == "tuple":
        fields = [(c.get("name") or str(i), to_json(c)) for i, c in enumerate(item["components"])]
        return lambda values: {name: conv(v) for (name, conv), v in zip(fields, values,
                                                                          strict=True)}
    if kind.startswith(("uint", "int")):
        bits = int(kind.removeprefix("u").removeprefix("int") or 256)
        return _identity if bits <= 48 else str
    if kind == "address":
        return str.lower
    if kind.startswith("bytes"):
        return _hex
    if kind == "string":
        return _clean_text
    return _identity


def _identity(value: Any) -> Any:
    return value


def _hex(value: bytes) -> str:
    return "0x" + value.hex()


def _clean_text(value: str) -> str:
    """PostgreSQL text and jsonb cannot hold NUL; the raw bytes stay in `data`."""
    return value.replace("\x00", "\ufffd")


def _word_reader(kind: str) -> Callable[[bytes], Any] | None:
    """Decoder of one 32-byte word already in JSON form, or None when `kind` is not static."""
    if kind.endswith("]") or kind.startswith("("):
        return None
    if kind.startswith("uint"):
        bits = int(kind[4:] or 256)
        if bits <= 48:
            return lambda w: int.from_bytes(w, "big")
        return lambda w: str(int.from_bytes(w, "big"))
    if kind.startswith("int"):
        bits = int(kind[3:] or 256)
        if bits <= 48:
            return lambda w: int.from_bytes(w, "big", signed=True)
        return lambda w: str(int.from_bytes(w, "big", signed=True))
    if kind == "address":
        return lambda w: "0x" + w[12:].hex()
    if kind == "bool":
        return lambda w: w[31] == 1
    if kind.startswith("bytes") and kind != "bytes":
        size = int(kind[5:])
        return lambda w: "0x" + w[:size].hex()
    return None


def _topic_reader(item: dict[str, Any]) -> Callable[[str], Any]:
    """Decoder of an indexed argument from its topic (hex string)."""
    word = _word_reader(canonical_type(item))
    if word is None:  # dynamic: the topic is keccak(value); keep the hash
        return str.lower
    return lambda topic: word(bytes.fromhex(topic[2:]))


class EventSpec:
    """How to decode one event of one contract."""

    def __init__(self, contract_name: str, abi: dict[str, Any]) -> None:
        self.contract_name, self.name = contract_name, abi["name"]
        self.signature = event_signature(abi)
        self.topic0 = "0x" + keccak(text=self.signature).hex()
        indexed = [i for i in abi["inputs"] if i.get("indexed")]
        body = [i for i in abi["inputs"] if not i.get("indexed")]
        self.order = [i["name"] for i in abi["inputs"]]
        self.topic_readers = [(i["name"], _topic_reader(i)) for i in indexed]
        self.body_names = [i["name"] for i in body]
        words = [_word_reader(canonical_type(i)) for i in body]
        self.fast_words = words if all(w is not None for w in words) else None
        self.body_converters = [to_json(i) for i in body]
        self.tuple_decoder = TupleDecoder(decoders=[
            registry.get_decoder(canonical_type(i), strict=False) for i in body])

    def decode(self, topics: list[str], data: bytes) -> dict[str, Any]:
        if len(topics) != len(self.topic_readers) + 1:
            raise DecodingError(f"{self.name}: {len(topics) - 1} indexed topics, expected "
                                f"{len(self.topic_readers)}")
        values = {name: read(topic) for (name, read), topic in zip(self.topic_readers,
                                                                   topics[1:], strict=True)}
        values.update(zip(self.body_names, self._body(data), strict=True))
        return {name: values[name] for name in self.order}

    def _body(self, data: bytes) -> list[Any]:
        if self.fast_words is not None:
            if len(data) < 32 * len(self.fast_words):
                raise DecodingError(f"{self.name}: {len(data)} data bytes is too short")
            return [read(data[32 * i: 32 * i + 32]) for i, read in enumerate(self.fast_words)]
        raw = self.tuple_decoder(ContextFramesBytesIO(data))
        return [conv(v) for conv, v in zip(self.body_converters, raw, strict=True)]


class EventDecoder:
    """Turns raw eth_getLogs entries of the deployment's contracts into Events."""

    def __init__(self, deployment: Deployment) -> None:
        self.contracts = {c.address.lower(): name for name, c in deployment.contracts.items()}
        self.specs: dict[tuple[str, str], EventSpec] = {}
        for name, contract in deployment.contracts.items():
            for abi in contract.abi:
                if abi.get("type") == "event" and not abi.get("anonymous"):
                    spec = EventSpec(name, abi)
                    self.specs[(contract.address.lower(), spec.topic0)] = spec
        self._times: dict[int, datetime] = {}

    @property
    def addresses(self) -> list[str]:
        return list(self.contracts)

    def decode(self, raw: dict[str, Any], timestamp: int | None = None) -> Event:
        """`timestamp` overrides the log's blockTimestamp (for providers that omit it)."""
        address = raw["address"].lower()
        topics = [t.lower() for t in raw["topics"]]
        spec = self.specs.get((address, topics[0])) if topics else None
        name, args = (spec.name, self._args(spec, raw, topics)) if spec else (None, None)
        seconds = timestamp if timestamp is not None else int(raw["blockTimestamp"], 16)
        return Event(int(raw["blockNumber"], 16), raw["blockHash"].lower(), self._time(seconds),
                     raw["transactionHash"].lower(), int(raw["transactionIndex"], 16),
                     int(raw["logIndex"], 16), self.contracts.get(address, address), address,
                     name, args, topics, raw["data"].lower())

    def _args(self, spec: EventSpec, raw: dict[str, Any], topics: list[str]) -> dict | None:
        try:
            return spec.decode(topics, bytes.fromhex(raw["data"][2:]))
        except (DecodingError, ValueError, UnicodeDecodeError) as error:
            log.warning("cannot decode %s in tx %s log %s: %s; stored raw", spec.name,
                        raw["transactionHash"], raw["logIndex"], error)
            return None

    def _time(self, seconds: int) -> datetime:
        moment = self._times.get(seconds)
        if moment is None:
            if len(self._times) > 4096:
                self._times.clear()
            moment = self._times[seconds] = datetime.fromtimestamp(seconds, UTC)
        return moment
