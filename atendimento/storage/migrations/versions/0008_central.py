"""Running a contact centre: filas with routing, capacity, read state.

Reserved so that the branches of this wave chain their migrations in one order without conflicts;
the branch that owns it fills in what it changes (and rewrites this docstring to say why).

Revision ID: 0008_central
Revises: 0007_canais_saida
Create Date: 2026-12-07
"""

from __future__ import annotations

revision = "0008_central"
down_revision = "0007_canais_saida"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
