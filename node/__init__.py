"""The node runtime: what an operator runs (`noderr node run`). A client of the backend (HTTP)
and of the bus (NATS); it never imports the backend, the indexer or the database."""
