"""Alembic migrations: the event store, projector checkpoints and the read-model tables."""
