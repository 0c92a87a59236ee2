"""Where openfr writes its log: `$OPENFR_HOME/logs/openfr.log`, rotated, for the details of failures that the
doors report in one line. Messages name actions, ids and error types; never faces, embeddings, names of
searched people, passwords or tokens (the code logs no such value).

Camera URLs are the exception openfr cannot avoid: FFmpeg's error text repeats the URL it was given, with
the camera's user name and password. So every record that reaches openfr's handlers (its message, its
arguments, its exception's text) passes through `CredentialFilter`, which removes the credentials of any
URL (`rtsp://user:pass@host` becomes `rtsp://***@host`) and the values of password-like query parameters.
"""

from __future__ import annotations

import logging
import re
from logging.handlers import RotatingFileHandler
from pathlib import Path

_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(threadName)s] %(message)s"
# scheme://userinfo@ : everything up to the last '@' before a space goes (a typed password may hold '@'
# or '/'); a URL with an '@' later in its path loses its host too, which a log can spare.
_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)\S*@")
_SECRET_PARAMETER = re.compile(r"(?i)([?&;][a-z0-9_.-]*(?:pass|pwd|token|secret|key|auth|sig)[a-z0-9_.-]*=)[^&\s#'\"]*")


def redact(text: str) -> str:
    """`text` without the credentials of any URL in it."""
    if "://" not in text and "=" not in text:
        return text
    return _SECRET_PARAMETER.sub(r"\1***", _USERINFO.sub(r"\1***@", text))


class CredentialFilter(logging.Filter):
    """Rewrites each record so that no handler it reaches can write a URL's credentials."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a record whose arguments do not fit: let logging report it as it would
            return True
        record.msg, record.args = redact(message), None
        if record.threadName and "://" in record.threadName:  # a camera's decoding thread is named after it
            record.threadName = redact(record.threadName)
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)  # the formatter writes exc_text, once set
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


CREDENTIALS = CredentialFilter()


def protect(handler: logging.Handler) -> logging.Handler:
    """`handler` with the credential filter (once)."""
    if CREDENTIALS not in handler.filters:
        handler.addFilter(CREDENTIALS)
    return handler


if logging.lastResort is not None:  # where warnings go before any handler is set up (a command's stderr)
    protect(logging.lastResort)


def log_file(home: Path) -> Path:
    return home / "logs" / "openfr.log"


def configure(home: Path) -> Path | None:
    """Send openfr's log to the file under `home` (once per process); None if it cannot be written (a full
    or read-only disk must not stop the command that wanted to report it). The handlers already there (the
    root logger's) get the credential filter too; Python's last resort to stderr has it from import."""
    for existing in logging.getLogger().handlers:
        protect(existing)
    path = log_file(home)
    root = logging.getLogger("openfr")
    if any(isinstance(h, RotatingFileHandler) and Path(h.baseFilename) == path for h in root.handlers):
        return path
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handler = RotatingFileHandler(path, maxBytes=10 * 1024 * 1024, backupCount=3, encoding="utf-8")
    except OSError:
        return None
    handler.setFormatter(logging.Formatter(_FORMAT))
    root.addHandler(protect(handler))
    root.setLevel(logging.INFO)
    return path
