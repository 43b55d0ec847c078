"""The README's configuration table and command list stay true to the code."""

import re

from typer.main import get_command

from backend.message_retention import RetentionSettings
from backend.settings import BackendSettings
from backend.vault.settings import VaultSettings
from dashboard.settings import DashboardSettings
from indexer.settings import IndexerSettings
from ml.settings import MLSettings
from node.bus.settings import BusSettings
from node.settings import GuardianSettings, NodeSettings, ValidatorSettings
from noderr.settings import REPO_ROOT, Settings
from noderr_cli.main import app
from onchain.settings import DeploySettings

README = (REPO_ROOT / "README.md").read_text()


def documented_variables() -> set[str]:
    return set(re.findall(r"^\| `(NODERR_[A-Z_]+)` \|", README, flags=re.MULTILINE))


def test_readme__configuration_table__lists_every_setting():
    models = (Settings, DeploySettings, IndexerSettings, BackendSettings, DashboardSettings,
              VaultSettings, MLSettings, NodeSettings, BusSettings,
              ValidatorSettings, GuardianSettings, RetentionSettings)
    fields = {field.validation_alias or f"{model.model_config['env_prefix']}{name.upper()}"
              for model in models for name, field in model.model_fields.items()}
    missing = fields - documented_variables()
    assert not missing, f"README lacks {sorted(missing)}"


def test_readme__command_table__lists_every_noderr_command():
    def names(command, prefix="noderr"):
        for name, sub in getattr(command, "commands", {}).items():
            yield f"{prefix} {name}"
            yield from names(sub, f"{prefix} {name}")

    missing = [name for name in names(get_command(app)) if f"`{name}" not in README]
    assert not missing, f"README lacks {missing}"
