"""`noderr dashboard`: registered in noderr_cli/main.py; serves dashboard/app.py with Streamlit."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer

APP = Path(__file__).resolve().parent / "app.py"


def streamlit_command(host: str, port: int) -> list[str]:
    """`streamlit run` offline and headless: no usage statistics, no file watcher."""
    return [sys.executable, "-m", "streamlit", "run", str(APP),
            "--server.address", host, "--server.port", str(port),
            "--server.headless", "true", "--browser.gatherUsageStats", "false",
            "--server.fileWatcherType", "none", "--global.developmentMode", "false",
            "--client.toolbarMode", "minimal"]


def dashboard(
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8501,
) -> None:
    """Serve the dashboard (Streamlit): wallet sign-in, applications, licenses, audit."""
    from dashboard.settings import deployment_path, get_dashboard_settings

    settings = get_dashboard_settings()
    path = deployment_path(settings)
    if not path.is_file():
        typer.secho(f"error: no deployment file at {path}: run `noderr deploy` or set "
                    "NODERR_DEPLOYMENT", fg=typer.colors.RED, err=True)
        raise typer.Exit(code=1)
    typer.echo(f"Noderr dashboard on http://{host}:{port} (backend {settings.api_url})")
    command = streamlit_command(host, port)
    os.execv(command[0], command)  # noqa: S606 - replaces this process with Streamlit
