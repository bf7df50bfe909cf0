"""Storage: SQLAlchemy 2.x tables, repositories and Alembic migrations (SQLite or PostgreSQL)."""
