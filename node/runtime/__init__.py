"""The node process: key, sign-in, license watch, heartbeats, execution reports, functions."""
