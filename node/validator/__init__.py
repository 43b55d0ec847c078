"""The Validator functions of the catalogue that are not steps of the consensus core, grouped by
category: stake (stake management: voting power, double-sign evidence, penalties), governance
(proposals, policy votes, the tally mirror, queue and execute), coordination (network
coordination: peer scores, the leader lease) and transactions (transaction validation against
the Guardian limits); calls holds the ABI encoding they share. Pure functions: the runtime
hands them the mirror's and the bus's state and sends what they build. The other ten
(propose_batch ... schedule_transmission, track_liveness) run inside node/runtime/validator.py
over the PBFT core of node/consensus."""
