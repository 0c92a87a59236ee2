"""The audit trail's seal: a key outside the database, and signed checkpoints of the chain's head.

The hash chain alone catches edits by anyone who does not recompute it; someone with database access can
delete events and recompute every SHA-256, delete the newest events, or empty the table, and the chain
still verifies. Three things close those gaps:

- **A keyed seal per event**: HMAC-SHA256 of the event's hash under a key that is not in the database
  (`$OPENFR_HOME/keys/audit.key`, mode 0600; or `OPENFR_AUDIT_KEY`, e.g. from a KMS or a secrets manager).
  A rewritten chain cannot be resealed without the key. The key is made only for a store whose trail has no
  seal and no checkpoint yet; with a sealed trail, a missing or different key stops openfr at start-up
  (`governance/sealing.py`), never a new key.
- **Checkpoints outside the database**: after every commit that appended events, a line with the head's
  position and hash, itself sealed, is appended to a file (`audit_checkpoint_file`; put it on another disk or
  a write-once mount, or copy it off the machine). `openfr audit verify` then sees a chain that ends before
  its last checkpoint (the newest events deleted, or the table emptied) without anyone keeping a head.
- **An anchor** (`audit.anchor`, `governance/anchor.py`): the same lines copied to syslog or to a file on
  another mount, so that cutting the newest events and the checkpoint file's last lines together is still
  seen (verify reads a file anchor).

Whoever holds both the key and every copy of the checkpoints can still rewrite history: keep them apart from
the database's administrators (the key in a KMS, the anchor on a witness).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from openfr.governance.anchor import Anchor, append_line

KEY_BYTES = 32


@dataclass(frozen=True)
class Checkpoint:
    position: int
    hash: str
    sealed_from: int  # the first event carrying a seal when it was written (kept for older readers)
    source: str = field(default="checkpoint file", compare=False)  # where it was read: the file or the anchor


class AuditSeal:
    def __init__(self, key: bytes, checkpoint_file: Path, anchor: Anchor | None = None):
        if len(key) < 16:
            raise ValueError("the audit key must be at least 16 bytes")
        self._key, self.checkpoint_file, self.anchor = key, checkpoint_file, anchor
        self.sealed_from: int | None = None  # the first sealed event, once known (it never moves)

    def seal(self, text: str) -> str:
        return hmac.new(self._key, text.encode(), hashlib.sha256).hexdigest()

    def checks(self, text: str, seal: str | None) -> bool:
        return seal is not None and hmac.compare_digest(self.seal(text), seal)

    def _line_body(self, c: Checkpoint) -> str:
        return f"{c.position}:{c.hash}:{c.sealed_from}"

    def line(self, checkpoint: Checkpoint) -> str:
        """The sealed checkpoint as one JSON line (no personal data: positions, hashes and a seal)."""
        c = checkpoint
        body = {
            "position": c.position,
            "hash": c.hash,
            "sealed_from": c.sealed_from,
            "seal": self.seal(self._line_body(c)),
        }
        return json.dumps(body, separators=(",", ":"))

    def write_checkpoint(self, checkpoint: Checkpoint) -> None:
        line = self.line(checkpoint)
        try:
            self.checkpoint_file.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            append_line(self.checkpoint_file, line)
        finally:
            if self.anchor is not None:
                self.anchor.append(line)

    def checkpoints(self) -> tuple[list[Checkpoint], list[str]]:
        """Every checkpoint whose seal holds, from the checkpoint file and a readable anchor, and a problem for
        every line that does not."""
        good, problems = self._parse(checkpoint_lines(self.checkpoint_file), "checkpoint file")
        anchored = self.anchor.lines() if self.anchor is not None else None
        if anchored is not None:
            more, wrong = self._parse(anchored, str(self.anchor))
            good, problems = good + more, problems + wrong
        return good, problems

    def parse_line(self, text: str, source: str = "checkpoint file") -> Checkpoint | None:
        """The checkpoint in one line if its seal holds under this key, else None."""
        try:
            raw = json.loads(text.split(" ", 1)[1] if text.startswith("checkpoint ") else text)
            c = Checkpoint(int(raw["position"]), str(raw["hash"]), int(raw["sealed_from"]), source)
            return c if self.checks(self._line_body(c), raw.get("seal")) else None
        except (ValueError, KeyError, TypeError, AttributeError, IndexError):
            return None

    def _parse(self, lines: list[str], source: str) -> tuple[list[Checkpoint], list[str]]:
        good, problems = [], []
        for number, text in enumerate(lines, 1):
            c = self.parse_line(text, source)
            if c is not None:
                good.append(c)
            else:
                where = "checkpoint" if source == "checkpoint file" else source
                problems.append(f"{where} line {number}: not sealed with this installation's key (altered)")
        return good, problems


def checkpoint_lines(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


def read_key(path: Path) -> bytes | None:
    """The key kept in `path`, or None when there is none."""
    try:
        return path.read_text().strip().encode() or None
    except FileNotFoundError:
        return None


def make_key(path: Path) -> tuple[bytes, bool]:
    """A new random key in `path` (owner-only), and True; or, if another process made one at the same moment,
    that one and False. The key is written in full before it appears under its name (a hard link), so a
    reader never sees a half-written key."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    draft = path.with_name(f".{path.name}.{secrets.token_hex(8)}")
    fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_hex(KEY_BYTES))
            fh.flush()
            os.fsync(fh.fileno())
        try:
            os.link(draft, path)
            made = True
        except FileExistsError:
            made = False
    finally:
        draft.unlink(missing_ok=True)
    return path.read_text().strip().encode(), made


def key_file(path: Path) -> bytes:
    """The key kept in `path`, made on first use (the secrets key's rule; the audit key is made only for an
    unsealed trail, by governance/sealing.py)."""
    return read_key(path) or make_key(path)[0]
