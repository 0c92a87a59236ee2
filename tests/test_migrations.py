"""The migrations are one numbered line: each file is named after its revision and revises the one numbered
before it. openfr reads the head from the file names (store/db.head_revision) and skips Alembic when a store
is at it, so a migration that broke the rule would be silently never run."""

from __future__ import annotations

import sqlalchemy as sa
from alembic.script import ScriptDirectory

from openfr.store.db import MIGRATIONS, alembic_config, head_revision, open_database


def test_each_migration_is_named_after_its_revision_and_revises_the_one_before():
    scripts = ScriptDirectory.from_config(alembic_config(""))
    files = sorted((MIGRATIONS / "versions").glob("*.py"))
    assert len(files) >= 15
    for number, path in enumerate(files, start=1):
        revision = path.name.partition("_")[0]
        assert revision == f"{number:04d}", f"{path.name}: migrations are numbered 0001, 0002, ... in order"
        script = scripts.get_revision(revision)
        assert script is not None and script.path == str(path), f"{path.name} does not declare revision {revision}"
        expected_parent = f"{number - 1:04d}" if number > 1 else None
        assert script.down_revision == expected_parent, f"{path.name} revises {script.down_revision}"
    assert scripts.get_heads() == [head_revision()]


def test_a_store_behind_the_head_is_migrated_and_one_at_the_head_is_left_as_it_is(tmp_path):
    url = f"sqlite:///{tmp_path / 'openfr.db'}"
    old = open_database(url, migrate=False)
    with old.engine.begin() as connection:  # a store from before the last migration, as an upgrade finds it
        from alembic import command

        config = alembic_config(url)
        config.attributes["connection"] = connection
        command.upgrade(config, f"{int(head_revision()) - 1:04d}")
    old.dispose()
    upgraded = open_database(url)
    assert upgraded.revision_at_open == f"{int(head_revision()) - 1:04d}"
    assert not upgraded.had_revision(head_revision()) and upgraded.had_revision("0001")
    with upgraded.engine.connect() as connection:
        assert connection.scalar(sa.text("SELECT version_num FROM alembic_version")) == head_revision()
    upgraded.dispose()
    again = open_database(url)
    assert again.revision_at_open == head_revision() and again.had_revision(head_revision())
    again.dispose()
