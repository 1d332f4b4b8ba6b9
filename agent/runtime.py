"""The running product's shared pieces, built once from the settings.

Every entry point (the command line, the server, the worker) starts from a
``Runtime``: the settings, a database engine already migrated to head, and the
secret box. Building it is where a wrong key or an unreachable database is
reported, before any work starts, and where the data directory is made private
(``0700``; a directory others may read is warned about and fixed, see
``agent.filemodes``).
"""

from __future__ import annotations

from functools import cached_property

from sqlalchemy import Engine

from agent.filemodes import private_dir
from agent.security.secrets import SecretBox
from agent.settings import Settings
from agent.storage.db import make_engine, upgrade_to_head


class Runtime:
    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or Settings()
        private_dir(self.settings.data_dir)

    @cached_property
    def engine(self) -> Engine:
        engine = make_engine(self.settings.database_url)
        upgrade_to_head(engine)
        return engine

    @cached_property
    def box(self) -> SecretBox:
        return SecretBox.load(env_key=self.settings.secret_key, key_file=self.settings.key_file)
