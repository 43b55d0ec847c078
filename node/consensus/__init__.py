"""Validator consensus as a pure state machine (PBFT: pre-prepare, prepare, commit, view change)
and the deterministic simulated network that tests it. Nothing here does I/O or reads a clock:
the bus transport, the signer and the chain are adapters around it."""
