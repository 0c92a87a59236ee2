"""The audit trail's seal: a key outside the database, and signed checkpoints of the chain's head.

The hash chain alone catches edits by anyone who does not recompute it; someone with database access can
delete events and recompute every SHA-256, delete the newest events, or empty the table, and the chain
still verifies. Two things close those gaps:

- **A keyed seal per event**: HMAC-SHA256 of the event's hash under a key that is not in the database
  (`$OPENFR_HOME/keys/audit.key`, mode 0600, made on first use; or `OPENFR_AUDIT_KEY`, e.g. from a KMS or a
  secrets manager). A rewritten chain cannot be resealed without the key.
- **Checkpoints outside the database**: after every commit that appended events, a line with the head's
  position and hash, itself sealed, is appended to a file (`audit.checkpoint_file`; put it on another disk or
  a write-once mount, or copy it off the machine). `openfr audit verify` then sees a chain that ends before
  its last checkpoint (the newest events deleted, or the table emptied) without anyone keeping a head.

Whoever holds both the key and the checkpoint file can still rewrite history: keep them apart from the
database's administrators (the key in a KMS, the checkpoints on a witness).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

KEY_BYTES = 32


@dataclass(frozen=True)
class Checkpoint:
    position: int
    hash: str
    sealed_from: int  # the first event carrying a seal: events before it predate the key


class AuditSeal:
    def __init__(self, key: bytes, checkpoint_file: Path):
        if len(key) < 16:
            raise ValueError("the audit key must be at least 16 bytes")
        self._key, self.checkpoint_file = key, checkpoint_file
        self.sealed_from: int | None = None  # the first sealed event, once known (it never moves)

    @classmethod
    def for_home(cls, home: Path, key_text: str | None = None, checkpoint_file: Path | None = None) -> AuditSeal:
        """The key from the environment if given, else the key file (made once, owner-only)."""
        keys = home / "keys"
        key = key_text.encode() if key_text else key_file(keys / "audit.key")
        return cls(key, checkpoint_file or keys / "audit-checkpoints.jsonl")

    def seal(self, text: str) -> str:
        return hmac.new(self._key, text.encode(), hashlib.sha256).hexdigest()

    def checks(self, text: str, seal: str | None) -> bool:
        return seal is not None and hmac.compare_digest(self.seal(text), seal)

    def _line_body(self, c: Checkpoint) -> str:
        return f"{c.position}:{c.hash}:{c.sealed_from}"

    def write_checkpoint(self, checkpoint: Checkpoint) -> None:
        line = {"position": checkpoint.position, "hash": checkpoint.hash, "sealed_from": checkpoint.sealed_from}
        line["seal"] = self.seal(self._line_body(checkpoint))
        self.checkpoint_file.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(self.checkpoint_file, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        with os.fdopen(fd, "a") as fh:  # one short line per write: appends from several processes interleave whole
            fh.write(json.dumps(line, separators=(",", ":")) + "\n")
            fh.flush()
            os.fsync(fh.fileno())

    def checkpoints(self) -> tuple[list[Checkpoint], list[str]]:
        """Every checkpoint whose seal holds, and a problem for every line that does not."""
        if not self.checkpoint_file.exists():
            return [], []
        good, problems = [], []
        for number, text in enumerate(self.checkpoint_file.read_text().splitlines(), 1):
            try:
                raw = json.loads(text)
                c = Checkpoint(int(raw["position"]), str(raw["hash"]), int(raw["sealed_from"]))
                ok = self.checks(self._line_body(c), raw.get("seal"))
            except (ValueError, KeyError, TypeError):
                ok, c = False, None
            if ok and c is not None:
                good.append(c)
            else:
                problems.append(f"checkpoint line {number}: not sealed with this installation's key (altered)")
        return good, problems


def key_file(path: Path) -> bytes:
    """A random key kept in `path` (owner-only), made on first use; several processes agree on one."""
    if not path.exists():
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process made it first
            pass
        else:
            with os.fdopen(fd, "w") as fh:
                fh.write(secrets.token_hex(KEY_BYTES))
    return path.read_text().strip().encode()
