"""`noderr db prune`: delete the validators' consensus messages past their retention
(backend/message_retention.py, which says why seven days)."""

from __future__ import annotations

import sys
from typing import Annotated

import psycopg
import typer
from pydantic import ValidationError
from tqdm import tqdm

from backend import message_retention
from noderr.console import fail
from noderr.db import DatabaseError, connect


def prune(
    consensus_older_than: Annotated[int | None, typer.Option(
        min=1, metavar="DAYS", help="Delete consensus messages recorded more than DAYS days "
                                    "ago (default: NODERR_CONSENSUS_RETENTION_DAYS, 7).")] = None,
    dry_run: Annotated[bool, typer.Option(
        "--dry-run", help="Count what would go; delete nothing.")] = False,
    progress: Annotated[bool, typer.Option(help="Progress bar while deleting.")] = True,
) -> None:
    """Delete the validators' consensus messages older than the retention window, in batches
    (rounds stay); running it again deletes nothing new."""
    try:
        days = consensus_older_than or \
            message_retention.RetentionSettings().consensus_retention_days
        with connect(autocommit=True) as conn:
            before = message_retention.cutoff(conn, days)
            older = message_retention.count_older(conn, before)
            if dry_run:
                typer.echo(f"would delete {older} consensus messages recorded before "
                           f"{before.isoformat()} (older than {days} days)")
                return
            with tqdm(total=older, unit="row", desc="consensus messages", file=sys.stderr,
                      disable=not progress or older == 0, dynamic_ncols=True) as bar:
                deleted = message_retention.prune(conn, before, bar.update)
    except (DatabaseError, psycopg.Error, ValidationError) as error:
        raise fail(str(error).strip() or type(error).__name__) from None
    typer.echo(f"deleted {deleted} consensus messages recorded before {before.isoformat()} "
               f"(older than {days} days)")
