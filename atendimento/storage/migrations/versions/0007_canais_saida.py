"""Channels out: webhook endpoints, deliveries and their attempts, message status back.

Reserved so that the branches of this wave chain their migrations in one order without conflicts;
the branch that owns it fills in what it changes (and rewrites this docstring to say why).

Revision ID: 0007_canais_saida
Revises: 0006_confianca
Create Date: 2026-12-07
"""

from __future__ import annotations

revision = "0007_canais_saida"
down_revision = "0006_confianca"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
