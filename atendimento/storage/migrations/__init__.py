"""Alembic migrations, shipped inside the package and run by ``atendimento.storage.migracoes``."""
