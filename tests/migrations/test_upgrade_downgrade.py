"""Every revision upgrades an empty database and downgrades back exactly: base leaves nothing
of ours (no table, sequence, function or trigger), and each step down restores the schema the
step up started from."""

from __future__ import annotations

from alembic import command
from alembic.script import ScriptDirectory

from noderr.migrate import alembic_config, current_revision, head_revision, upgrade
from tests.migrations.catalog import is_empty, snapshot


def _revisions_base_first() -> list[str]:
    script = ScriptDirectory.from_config(alembic_config(""))
    return [revision.revision for revision in reversed(list(script.walk_revisions()))]


def test_upgrade_head__downgrade_base__upgrade_head_again(empty_database):
    url = empty_database()
    config = alembic_config(url)
    upgrade(url)
    at_head = snapshot(url)
    assert current_revision(url) == head_revision() and not is_empty(at_head)

    command.downgrade(config, "base")
    assert current_revision(url) is None
    assert is_empty(snapshot(url))

    upgrade(url)
    assert snapshot(url) == at_head


def test_each_downgrade_restores_the_schema_before_its_upgrade(empty_database):
    url = empty_database()
    config = alembic_config(url)
    before = {}
    for revision in _revisions_base_first():
        before[revision] = snapshot(url)
        upgrade(url, revision)
    for revision in reversed(_revisions_base_first()):
        assert current_revision(url) == revision
        command.downgrade(config, "-1")
        assert snapshot(url) == before[revision], f"downgrade of {revision}"

