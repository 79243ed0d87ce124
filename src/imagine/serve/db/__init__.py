"""Database layer of the service: SQLAlchemy 2 models and engine/session set-up."""
