"""Noderr's shared core: settings, the deployment file, and the `noderr` command line."""
