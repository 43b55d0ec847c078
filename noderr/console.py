"""How every `noderr` command reports a failure: one red line on stderr, exit code 1."""

import typer


def fail(message: str) -> typer.Exit:
    """Print `message` as a one-line error and return the exit to raise."""
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    return typer.Exit(code=1)
