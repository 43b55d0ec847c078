"""The node network's bus: NATS with JetStream carries bytes; every message is an EIP-712
envelope signed by its sender's node key, and receivers act only on messages from holders of
an active license of the type the subject requires (docs/bus.md)."""
