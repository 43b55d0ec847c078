"""The composition root: the `noderr` command line, the demo and its seeding. Nothing in the
project imports it."""
