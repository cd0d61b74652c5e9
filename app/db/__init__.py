"""Record: the only package that imports SQLAlchemy (with migrations/). Engine, tables, the
store of one cycle's transaction, the outbox, read queries and the leader lock."""
