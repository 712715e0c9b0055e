"""Files of the installation kept to their owner (docs/security.md, "Files"): the data directory and what is in
it — the SQLite read model, citizens' materials, keys — are 0700 directories and 0600 files, whatever the
process's umask, since they hold personal data. (`wuhuan` also sets umask 077 at start: cli/main.py.)"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

DIR_MODE, FILE_MODE = 0o700, 0o600


def private_dir(path: Path) -> Path:
    """Create the directory (and missing parents) as 0700; an existing one is narrowed to 0700."""
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True, mode=DIR_MODE)
    with contextlib.suppress(OSError):  # e.g. a mounted volume owned by someone else: its owner's to fix
        if path.stat().st_mode & 0o777 != DIR_MODE:
            path.chmod(DIR_MODE)
    return path


def write_private(path: Path, content: bytes) -> None:
    """Write a new file that only its owner can read, created so (never readable by others in between)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    with os.fdopen(fd, "wb") as out:
        out.write(content)


def make_private(path: Path) -> None:
    """Narrow an existing file to 0600 (nothing if it is not there)."""
    with contextlib.suppress(FileNotFoundError):
        if Path(path).stat().st_mode & 0o777 != FILE_MODE:
            Path(path).chmod(FILE_MODE)
