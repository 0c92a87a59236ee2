"""External, append-only copies of the audit trail's sealed checkpoints (`audit.anchor`).

The checkpoint file catches deleted newest events only while it is intact itself; someone able to edit both
the database and that file can cut the newest events and the matching checkpoint lines together. An anchor
is a second copy out of their reach:

- `syslog`: one line per checkpoint to the local syslog socket (facility authpriv, readable by root only on
  most systems), which the syslog daemon can forward off the machine (rsyslog/journald to a collector). Only
  positions, hashes and seals are sent, never personal data. openfr cannot read it back: compare its last line
  with `openfr audit head` when auditing. Syslog over a local datagram socket may drop lines under pressure.
- `file:/path`: a file on another mount (a different disk, an NFS export or a write-once/append-only volume
  administered by someone else), appended and fsynced like the checkpoint file. `openfr audit verify` reads it
  and fails when the trail ends before a checkpoint the anchor recorded. Its folder must already exist: openfr
  never creates it, so an unmounted volume is an error at start, not a silent local copy.

A line the anchor fails to take is logged (never the action's failure: the action has already committed);
verify still checks every line it has.
"""

from __future__ import annotations

import logging
import os
from logging.handlers import SysLogHandler
from pathlib import Path

from openfr.errors import ConfigurationError

log = logging.getLogger(__name__)

SYSLOG_SOCKETS = ("/dev/log", "/var/run/syslog")  # Linux, macOS
SYSLOG_IDENT = "openfr-audit: "


class FileAnchor:
    """Checkpoint lines appended to a file on another mount; readable by verify."""

    def __init__(self, path: Path):
        if not path.parent.is_dir():
            raise ConfigurationError(
                f"audit.anchor: the folder of {path} does not exist (is the volume mounted?); openfr does not "
                "create it, so that an unmounted witness is not replaced by a local file"
            )
        self.path = path

    def append(self, line: str) -> None:
        try:
            append_line(self.path, line)
        except OSError as exc:
            log.error("the audit anchor could not be written (%s): its copy of the checkpoints lags", exc.strerror)

    def lines(self) -> list[str] | None:
        return self.path.read_text().splitlines() if self.path.exists() else []

    def __str__(self) -> str:
        return "anchor"


class _Syslog(SysLogHandler):
    def handleError(self, record: logging.LogRecord) -> None:  # noqa: N802 - logging's name
        log.error("the audit anchor (syslog) could not be written: its copy of the checkpoints lags")


class SyslogAnchor:
    """Checkpoint lines sent to the local syslog daemon (facility authpriv); write-only for openfr."""

    def __init__(self) -> None:
        socket = next((s for s in SYSLOG_SOCKETS if Path(s).exists()), None)
        if socket is None:
            raise ConfigurationError(
                f"audit.anchor is syslog but there is no local syslog socket ({' or '.join(SYSLOG_SOCKETS)}): "
                "start a syslog daemon (rsyslog, systemd-journald) or use file:/path on another mount"
            )
        self.handler = _Syslog(address=socket, facility=SysLogHandler.LOG_AUTHPRIV)
        self.handler.ident = SYSLOG_IDENT

    def append(self, line: str) -> None:
        record = logging.makeLogRecord({"msg": f"checkpoint {line}", "levelno": logging.INFO, "levelname": "INFO"})
        self.handler.handle(record)

    def lines(self) -> list[str] | None:
        return None  # cannot be read back

    def __str__(self) -> str:
        return "syslog anchor"


Anchor = FileAnchor | SyslogAnchor


def anchor_for(setting: str | None) -> Anchor | None:
    """The anchor named by the `audit.anchor` setting (already validated), or None."""
    if not setting:
        return None
    if setting == "syslog":
        return SyslogAnchor()
    return FileAnchor(Path(setting.removeprefix("file:")))


def append_line(path: Path, line: str) -> None:
    """Append one line and fsync it: one short write per line, so appends from several processes interleave
    whole lines. The folder must exist."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    with os.fdopen(fd, "a") as fh:
        fh.write(line + "\n")
        fh.flush()
        os.fsync(fh.fileno())
