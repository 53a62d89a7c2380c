"""Storage: SQLAlchemy models, shipped Alembic migrations, row-level security, the repository,
demo data. See docs/storage.md."""

from atendimento.storage.banco import Storage, StorageIndisponivel
from atendimento.storage.migracoes import upgrade, upgrade_database, upgrade_urls

__all__ = ["Storage", "StorageIndisponivel", "upgrade", "upgrade_database", "upgrade_urls"]
