"""The schema revision this flinkswatch's code expects, known without importing Alembic."""

# The newest migration in migrations/versions. `status`, `history` and a `run` on a migrated
# database compare it with the alembic_version row by one SELECT, so they never import Alembic
# (about 0.1 s and 10 MiB). A migration added in parallel with another branch: whichever
# merges second sets this to the real head; tests/unit/test_revision.py fails until it does,
# since it compares this with the head of Alembic's own ScriptDirectory.
HEAD_REVISION = "0011"
