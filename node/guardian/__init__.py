"""The 20 Guardian functions of the catalogue, grouped by category: risk (real-time risk
monitoring), limits (position limit enforcement), shutdown (emergency shutdown triggers),
compliance (compliance monitoring) and integrity (system integrity verification); their
registry. Pure functions: the runtime feeds them the desk's and the network's state."""
