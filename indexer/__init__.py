"""The indexer: mirrors every contract event into PostgreSQL (raw events for auditors,
projections for the backend); see docs/indexer.md."""
