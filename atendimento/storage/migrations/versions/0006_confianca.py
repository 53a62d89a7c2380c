"""Trust nobody: ticket history, integrations bound to their channels.

Reserved so that the branches of this wave chain their migrations in one order without conflicts;
the branch that owns it fills in what it changes (and rewrites this docstring to say why).

Revision ID: 0006_confianca
Revises: 0005_escrita_unica
Create Date: 2026-12-07
"""

from __future__ import annotations

revision = "0006_confianca"
down_revision = "0005_escrita_unica"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
