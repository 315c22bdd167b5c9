"""The audit history behind one interface: SQLite by default, PostgreSQL through SQLAlchemy, schema by Alembic."""
