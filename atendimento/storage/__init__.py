"""Storage: SQLAlchemy models, shipped Alembic migrations, row-level security, the repository,
demo data. See docs/storage.md."""

from atendimento.storage.banco import Storage, StorageUnavailable
from atendimento.storage.migracoes import upgrade, upgrade_database, upgrade_urls

__all__ = ["Storage", "StorageUnavailable", "upgrade", "upgrade_database", "upgrade_urls"]
