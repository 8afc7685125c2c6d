"""Alembic migrations of the records store, run programmatically by ``Records.migrate``."""
