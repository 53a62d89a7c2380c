"""One message write: the message append as one operation per dialect, the outbox table beside it.

Reserved so that the branches of this wave chain their migrations in one order without conflicts;
the branch that owns it fills in what it changes (and rewrites this docstring to say why).

Revision ID: 0005_escrita_unica
Revises: 0004_gravar_mensagem
Create Date: 2026-12-07
"""

from __future__ import annotations

revision = "0005_escrita_unica"
down_revision = "0004_gravar_mensagem"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
