"""minisign's key and signature files, written for the security suite with `cryptography`'s
Ed25519 (no minisign binary needed): a prehashed signature ("ED") of BLAKE2b-512 of the file,
and the global signature over it and the trusted comment. The host verifies them with the
minisign-verify crate (docs/security.md, "Trusted executables")."""

from __future__ import annotations

import base64
import hashlib
import os
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat


class Signer:
    def __init__(self) -> None:
        self.key = Ed25519PrivateKey.generate()
        self.key_id = os.urandom(8)

    def public_key(self) -> str:
        """The base64 line of a `.pub` file."""
        raw = self.key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        return base64.b64encode(b"Ed" + self.key_id + raw).decode()

    def write_public_key(self, path: Path) -> Path:
        path.write_text(f"untrusted comment: minisign public key\n{self.public_key()}\n")
        return path

    def sign(self, executable: Path) -> Path:
        """Writes `<executable>.minisig`."""
        signature = self.key.sign(hashlib.blake2b(executable.read_bytes(), digest_size=64).digest())
        trusted_comment = "timestamp:0\tfile:" + executable.name
        global_signature = self.key.sign(signature + trusted_comment.encode())
        path = Path(f"{executable}.minisig")
        path.write_text(
            "untrusted comment: signature from the security suite\n"
            + base64.b64encode(b"ED" + self.key_id + signature).decode()
            + f"\ntrusted comment: {trusted_comment}\n"
            + base64.b64encode(global_signature).decode()
            + "\n"
        )
        return path
