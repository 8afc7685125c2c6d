"""Schools, staff, sessions, candidates and staff tokens.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "schools",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("uai", sa.String(16), nullable=True, unique=True),
        sa.Column("timezone", sa.String(64), nullable=False),
        sa.Column("sos_code", sa.String(32), nullable=True),
    )
    op.create_table(
        "staff",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("school_id", sa.Integer(), sa.ForeignKey("schools.id"), nullable=True),
        sa.Column("email", sa.String(254), nullable=False, unique=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("password_hash", sa.String(200), nullable=False),
    )
    op.create_index("ix_staff_school_id", "staff", ["school_id"])
    op.create_table(
        "sessions",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("school_id", sa.Integer(), sa.ForeignKey("schools.id"), nullable=False),
        sa.Column("starts_at", sa.DateTime(), nullable=False),
        sa.Column("room", sa.String(200), nullable=False),
        sa.Column("address", sa.String(500), nullable=False),
        sa.Column("examiner", sa.String(200), nullable=False),
        sa.Column("timezone", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("password", sa.String(16), nullable=False),
        sa.Column("access_code", sa.String(16), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_sessions_school_id", "sessions", ["school_id"])
    op.create_table(
        "candidates",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column(
            "session_id",
            sa.Integer(),
            sa.ForeignKey("sessions.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("last_name", sa.String(100), nullable=False),
        sa.Column("first_name", sa.String(100), nullable=False),
        sa.Column("birthdate", sa.Date(), nullable=False),
        sa.Column("identity_key", sa.String(250), nullable=False),
        sa.Column("extra_time", sa.Float(), nullable=False),
        sa.Column("external_id", sa.String(64), nullable=True),
        sa.Column("email", sa.String(254), nullable=True),
        sa.Column("eligible", sa.Boolean(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.UniqueConstraint("session_id", "identity_key", name="uq_candidates_session_identity"),
    )
    op.create_index("ix_candidates_session_id", "candidates", ["session_id"])
    op.create_table(
        "staff_tokens",
        sa.Column("token_hash", sa.String(64), primary_key=True),
        sa.Column(
            "staff_id", sa.Integer(), sa.ForeignKey("staff.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_staff_tokens_staff_id", "staff_tokens", ["staff_id"])
    op.create_index("ix_staff_tokens_expires_at", "staff_tokens", ["expires_at"])


def downgrade() -> None:
    op.drop_table("staff_tokens")
    op.drop_table("candidates")
    op.drop_table("sessions")
    op.drop_table("staff")
    op.drop_table("schools")
