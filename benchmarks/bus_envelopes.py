"""Bus envelope benchmark: signed-envelope verification in messages/s on one core (frame
decode, payload and EIP-712 digest, coincurve recovery, address derivation, license lookup in
a membership of MEMBERS holders, replay check), against coincurve recovery alone
(`PublicKey.from_signature_and_message(sig, digest, hasher=None)`) on the same signatures and
digests, measured in the same run. Goal: at least 0.5x.

Usage: python benchmarks/bus_envelopes.py [--messages N] [--rounds R]
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable

import coincurve
import orjson

from node.bus.envelope import Domain, Signer, decode
from node.bus.membership import Membership
from node.bus.verify import ReplayGuard, Verifier
from noderr.domain import NodeType

CHAIN_ID = 31337
SENDERS = 16
MEMBERS = 1_000
SUBJECT = "noderr.oracle.observations.SP500"
GOAL = 0.5


def pin_to_one_core() -> str:
    if not hasattr(os, "sched_setaffinity"):
        return "not pinned (no sched_setaffinity here)"
    core = min(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {core})
    return f"pinned to CPU {core}"


def signed_frames(domain: Domain, count: int, now: float) -> tuple[list[bytes], Membership]:
    """`count` observations from SENDERS licensed oracles, round robin, and the membership."""
    signers = [Signer(bytes([i + 1]) * 32, NodeType.ORACLE, domain, clock=lambda: now)
               for i in range(SENDERS)]
    others = [("0x" + (i + 1).to_bytes(20, "big").hex(), NodeType.VALIDATOR, 10_000 + i)
              for i in range(MEMBERS - SENDERS)]
    membership = Membership()
    membership.update(1, [(node.address, NodeType.ORACLE, i) for i, node in enumerate(signers)]
                      + others)
    frames = []
    for i in range(count):
        payload = {"feed": "SP500", "round": i, "value": "4512.25", "confidence": "0.98",
                   "sources": ["arch.sp500", "replay.noise.1", "replay.noise.2"]}
        frames.append(signers[i % SENDERS].seal(SUBJECT, orjson.dumps(payload)))
    return frames, membership


def rate(run: Callable[[], int]) -> float:
    started = time.perf_counter()
    done = run()
    return done / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=4_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()

    pinning = pin_to_one_core()
    now = time.time()
    domain = Domain(CHAIN_ID)
    frames, membership = signed_frames(domain, args.messages, now)
    verifier = Verifier(domain, membership, clock=lambda: now)
    recoverable = []
    for data in frames:
        frame = decode(data)
        signature = frame.signature[:64] + bytes((frame.signature[64] - 27,))
        recoverable.append((signature, domain.digest(frame.envelope)))

    def recover_only() -> int:
        for signature, digest in recoverable:
            coincurve.PublicKey.from_signature_and_message(signature, digest, hasher=None)
        return len(recoverable)

    def verify_all() -> int:
        guard = ReplayGuard(verifier.window_ms)
        for data in frames:
            guard.admit(verifier.verify(SUBJECT, data))
        return len(frames)

    baseline, verified = 0.0, 0.0
    for _ in range(args.rounds):
        baseline = max(baseline, rate(recover_only))
        verified = max(verified, rate(verify_all))

    ratio = verified / baseline
    print(f"bus envelope verification, one core ({pinning}); {args.messages} messages from "
          f"{SENDERS} senders, membership of {MEMBERS}, best of {args.rounds} rounds")
    print(f"  coincurve recovery alone       {baseline:10,.0f} msg/s  "
          f"({1e6 / baseline:.1f} us each)")
    print(f"  full envelope verification     {verified:10,.0f} msg/s  "
          f"({1e6 / verified:.1f} us each)")
    print(f"  ratio verification/recovery    {ratio:10.2f}x  (goal >= {GOAL}x: "
          f"{'met' if ratio >= GOAL else 'NOT met'})")


if __name__ == "__main__":
    main()
