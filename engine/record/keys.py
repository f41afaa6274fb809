"""Encryption at rest: free text and canonical inputs are sealed with
AES-256-GCM (authenticated encryption, from the ``cryptography`` package).

The key lives in a key file (``ADJUDICATE_KEY_FILE``, or beside the store).
Each sealed value is bound to its row by associated data (the decision id),
so a ciphertext copied into another row does not open. A wrong key fails
with a clear message, never with garbage.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from engine.errors import StoreError

NONCE_BYTES = 12
KEY_CHECK = b"adjudicate key check"


@dataclass(frozen=True)
class Sealer:
    """The store's encryption key (AES-256-GCM) and the file it came from.

    Attributes:
        key: the 32 key bytes (never printed).
        path: the key file.
    """

    key: bytes = field(repr=False)
    path: Path

    @property
    def audit_key(self) -> bytes:
        """A separate key for the audit chain's HMAC, derived from this one."""
        return hmac.new(self.key, b"adjudicate audit chain", hashlib.sha256).digest()

    @property
    def fingerprint(self) -> str:
        """A short, non-secret name of the key, for messages."""
        return hashlib.sha256(b"fingerprint" + self.key).hexdigest()[:12]

    @cached_property
    def _cipher(self) -> AESGCM:
        return AESGCM(self.key)

    def seal(self, plaintext: bytes, context: str) -> bytes:
        """Encrypt ``plaintext``, bound to ``context`` (a decision id): a
        sealed value moved to another decision does not open.

        Args:
            plaintext: the bytes to seal.
            context: what they belong to (authenticated, not stored).

        Returns:
            The nonce followed by the ciphertext and its tag.
        """
        nonce = os.urandom(NONCE_BYTES)
        return nonce + self._cipher.encrypt(nonce, plaintext, context.encode("utf-8"))

    def seal_many(self, plaintexts: list[bytes], contexts: list[str]) -> list[bytes]:
        """``seal`` for many values at once, as a worker seals a part's
        decisions: the nonces come from one call to the system's random
        source instead of one call each. Every nonce is as random and as
        unique as ``seal``'s, and each value is bound to its context.

        Args:
            plaintexts: the bytes to seal.
            contexts: what each belongs to, in the same order.

        Returns:
            The sealed values, in order, each as ``seal`` returns it.

        Raises:
            ValueError: not as many contexts as plaintexts.
        """
        if len(plaintexts) != len(contexts):
            raise ValueError(f"{len(plaintexts)} values to seal but {len(contexts)} contexts")
        nonces = os.urandom(NONCE_BYTES * len(plaintexts))
        encrypt = self._cipher.encrypt
        sealed = []
        for at, (plaintext, context) in enumerate(zip(plaintexts, contexts)):
            nonce = nonces[at * NONCE_BYTES : (at + 1) * NONCE_BYTES]
            sealed.append(nonce + encrypt(nonce, plaintext, context.encode("utf-8")))
        return sealed

    def open(self, sealed: bytes, context: str) -> bytes:
        """Decrypt a value sealed with ``seal`` for the same ``context``.

        Args:
            sealed: what ``seal`` returned.
            context: what it belongs to.

        Returns:
            The plaintext bytes.

        Raises:
            StoreError: the key is wrong, or the value or context was altered.
        """
        try:
            return self._cipher.decrypt(sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], context.encode("utf-8"))
        except (InvalidTag, ValueError):
            raise StoreError(
                f"a sealed value of {context} cannot be opened with the key in {self.path} "
                f"(fingerprint {self.fingerprint}): the key is wrong or the data was altered.",
                file=str(self.path),
            ) from None


def load_or_create_key(path: Path, announce=print) -> Sealer:
    """Read the key file; create it (owner-only) if it does not exist yet."""
    path = Path(path)
    if not path.exists():
        key = AESGCM.generate_key(bit_length=256)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            # O_EXCL: never overwrite a key another process just created.
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(descriptor, "w", encoding="ascii") as handle:
                handle.write(base64.b64encode(key).decode("ascii") + "\n")
        except OSError as exc:
            raise StoreError(
                f"cannot create the store's encryption key: {exc.strerror or exc}. Choose a folder you may "
                "write to with --db (the key is created beside a SQLite store) or name a key file with "
                "--key-file or ADJUDICATE_KEY_FILE.",
                file=str(path),
            ) from None
        announce(
            f"Created the encryption key {path} (readable by its owner only). Keep a copy in a safe "
            "place: without it the stored findings cannot be read."
        )
        return Sealer(key, path)
    try:
        key = base64.b64decode(path.read_text(encoding="ascii").strip(), validate=True)
    except (OSError, ValueError, UnicodeDecodeError):
        raise StoreError(
            "the key file cannot be read as a base64 key; restore it from your backup.", file=str(path)
        ) from None
    if len(key) != 32:
        raise StoreError(
            f"the key file holds {len(key)} bytes, not the 32 of an AES-256 key; restore it from your backup.",
            file=str(path),
        )
    if path.stat().st_mode & 0o077:
        announce(
            f"Warning: the key file {path} can be read by other users; make it readable by its owner "
            f"only (chmod 600 {path})."
        )
    return Sealer(key, path)
