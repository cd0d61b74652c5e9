"""SQLite files only their owner may read: the database and its backups are created 0600 and
the folders made for them 0700, whatever the umask (they hold every recipient's name, and the
-wal and -shm files SQLite adds take the database file's mode)."""

from __future__ import annotations

import os
from pathlib import Path

from app.errors import DatabaseError

FILE_MODE = 0o600
FOLDER_MODE = 0o700


def private_folder(folder: Path) -> None:
    """Create `folder` and any missing parent, each 0700; a folder already there is left as it
    is (it may be shared on purpose: the working directory, /var/lib...). OSError as raised."""
    missing: list[Path] = []
    for path in (folder, *folder.parents):
        if path.exists():
            break
        missing.append(path)
    for path in reversed(missing):
        try:
            path.mkdir(mode=FOLDER_MODE)
        except FileExistsError:
            continue  # another process made it meanwhile: theirs, as it is
        path.chmod(FOLDER_MODE)  # the umask may have taken bits from the mode given


def private_file(path: Path) -> None:
    """Create `path` empty and 0600 unless it exists (an empty file is an empty SQLite
    database, so SQLite opens it rather than creating it with its own 0644)."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    except FileExistsError:
        return
    try:
        os.fchmod(fd, FILE_MODE)
    finally:
        os.close(fd)


def private_database(path: Path) -> None:
    """The SQLite database at `path` and its folder, created private when missing
    (DatabaseError, one line, when they cannot be)."""
    try:
        private_folder(path.parent)
    except OSError as exc:
        raise DatabaseError(
            f"cannot create the database directory {path.parent}: {exc.strerror or exc}"
        ) from None
    try:
        private_file(path)
    except OSError as exc:
        raise DatabaseError(f"cannot create the database {path}: {exc.strerror or exc}") from None
