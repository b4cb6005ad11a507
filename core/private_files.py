"""Files only their owner may read: databases, keys, tokens. One owner for the rule so the
device and central cannot drift (central once left its database 0644 when --home existed)."""
from __future__ import annotations

import os
import secrets
from pathlib import Path


def ensure_private(path: Path) -> None:
    """Create path empty and 0600 if it is missing (0600 from its first byte, whatever the
    umask or the directory's mode), and force 0600 if it exists. Raises OSError."""
    try:
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
    except FileExistsError:
        pass  # already there, or another process created it first
    os.chmod(path, 0o600)


def write_private(path: Path, data: bytes, *, overwrite: bool = True) -> None:
    """Write data to a 0600 file. With overwrite=False an existing file raises
    FileExistsError (keys are never overwritten)."""
    flags = os.O_CREAT | os.O_WRONLY | (os.O_TRUNC if overwrite else os.O_EXCL)
    fd = os.open(path, flags, 0o600)
    os.fchmod(fd, 0o600)  # an existing file keeps its old mode through O_TRUNC
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)


def create_once(path: Path, data: bytes) -> bool:
    """Put `data` at `path` (0600, synced) unless a file is there already: whether this call
    made it. For a secret several processes on one store may make at the same moment: each
    drafts its own under a private name and links it into place, which fails for all but
    the first, so no process ever reads the file half-written or a secret that lost."""
    path = Path(path)
    if path.exists():
        return False
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    draft = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(8)}")
    fd = os.open(draft, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    try:
        os.link(draft, path)
        fsync_directory(path.parent)
        return True
    except FileExistsError:
        return False  # another process made it first: theirs stands
    finally:
        draft.unlink()


def fsync_directory(directory: Path) -> None:
    """Make a file's creation or rename in `directory` durable (a crash keeps the name)."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
