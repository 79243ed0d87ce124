"""The project's database: SQLAlchemy 2 models, engine/session set-up and the Alembic migrations.

Shared by the service, the owners' tools and the arena evaluation; nothing here imports the web app.
"""
