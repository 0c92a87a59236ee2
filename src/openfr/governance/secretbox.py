"""Secrets the database must keep but must not show: second-factor (TOTP) keys, encrypted at rest.

A copy of the database (a backup, a replica, a stolen disk) then holds no usable second factor. The key
is kept outside the database like the audit seal's: `$OPENFR_HOME/keys/secrets.key` (mode 0600, made on
first use) or `OPENFR_SECRETS_KEY` (e.g. from a KMS). Fernet (AES-128-CBC + HMAC-SHA256, from the
`cryptography` package) under a key derived with HKDF, so any long random text serves as the key.
Losing the key loses every second factor (administrators can set new ones), never a password.
"""

from __future__ import annotations

import base64
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from openfr.errors import OpenFRError
from openfr.governance.seal import key_file

PREFIX = "enc1:"  # stored values that are sealed; TOTP secrets from before encryption are bare base32


class SecretKeyError(OpenFRError):
    """A stored secret does not open with this installation's key (the key was replaced or lost)."""


class SecretBox:
    def __init__(self, key: bytes):
        if len(key) < 16:
            raise ValueError("the secrets key must be at least 16 bytes")
        self._key = key
        self._fernet = Fernet(base64.urlsafe_b64encode(self.derive(b"openfr stored secrets")))

    def derive(self, purpose: bytes) -> bytes:
        """A key for one purpose (encryption, signing view grants), derived from the secrets key with HKDF:
        one secret to keep outside the database, independent keys inside."""
        return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(self._key)

    @classmethod
    def for_home(cls, home: Path, key_text: str | None = None) -> SecretBox:
        return cls(key_text.encode() if key_text else key_file(home / "keys" / "secrets.key"))

    def seal(self, plain: str) -> str:
        return PREFIX + self._fernet.encrypt(plain.encode()).decode()

    def open(self, stored: str) -> str:
        if not is_sealed(stored):
            return stored  # written before encryption; sealed at the next start (accounts.seal_plain_secrets)
        try:
            return self._fernet.decrypt(stored[len(PREFIX) :].encode()).decode()
        except InvalidToken:
            raise SecretKeyError(
                "a stored second factor does not open with this installation's secrets key (was the key "
                "replaced?): restore the key, or have an administrator set up the second factor again"
            ) from None


def is_sealed(stored: str) -> bool:
    return stored.startswith(PREFIX)
