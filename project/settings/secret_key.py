"""The development SECRET_KEY: random, made on first start, kept in var/ (never committed).

`make run` starts several processes at once (web workers, the audit relay and consumer), and all of
them must sign with the same key (sessions, JWTs, the audit messages' HMAC), so the first start has
to be safe to race: each process writes a candidate key to a private temporary file, then hard-links
it to the final name. `os.link` never replaces an existing file, so exactly one candidate wins and
every process, the losers included, reads the winner back. The file appears fully written (a link to
a complete file), so no process can read half a key."""

from __future__ import annotations

import os
import secrets
import tempfile
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

# Django's security.W009 asks for at least 50 characters; 64 random bytes give 86.
KEY_BYTES = 64
MIN_LENGTH = 50


def development_secret_key(path: Path) -> str:
    """The key stored in `path`, created (random, file mode 0600) if there is none yet.

    Raises ImproperlyConfigured when the file exists but holds no usable key (empty or too short):
    deleting it makes a new one (which signs out every session and invalidates every token)."""
    try:
        return _read(path)
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    # mkstemp creates the file with mode 0600, readable by this user only, whatever the umask.
    handle, candidate = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "w") as file:
            file.write(secrets.token_urlsafe(KEY_BYTES) + "\n")
            file.flush()
            os.fsync(file.fileno())
        try:
            os.link(candidate, path)
        except FileExistsError:
            pass  # another process started first: its key is the key
    finally:
        os.unlink(candidate)
    return _read(path)


def _read(path: Path) -> str:
    key = path.read_text().strip()
    if len(key) < MIN_LENGTH:
        raise ImproperlyConfigured(f"{path} holds no usable development SECRET_KEY: delete it and start again.")
    return key
