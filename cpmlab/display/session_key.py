"""The per-session display key: the engine's CURVE key pair and a token a display must prove.

The engine makes a new key for every session. The link is CURVE-encrypted (ZeroMQ), so only a
client that has the engine's public key can connect at all, and a connected display counts
only after its hello carries the session's token. A display started by the engine gets the
key through its environment (never on the command line, which other users can read); a
display on another PC gets it from the operator (CPMLAB_DISPLAY_KEY or a key file).
"""

from __future__ import annotations

import hmac
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

import zmq
from zmq.utils import z85

from cpmlab.core.errors import CpmlabError

ENV_VAR = "CPMLAB_DISPLAY_KEY"
_HEX_LEN = 64  # 32 bytes as hex: the CURVE public key, then the token


@dataclass(frozen=True, repr=False)
class SessionKey:
    """What a display needs to join one session (server_public, token); the engine also holds server_secret."""

    server_public: bytes  # z85, 40 characters
    token: str  # 64 hex characters
    server_secret: bytes | None = None  # engine side only

    @classmethod
    def new(cls) -> SessionKey:
        """Make a fresh key for one session."""
        public, secret = zmq.curve_keypair()
        return cls(public, secrets.token_hex(32), secret)

    def for_display(self) -> str:
        """Return the text a display is given (hex: the engine's public key, then the token)."""
        return z85.decode(self.server_public).hex() + self.token

    @classmethod
    def parse(cls, text: str) -> SessionKey:
        """Read the text for_display() gave (CpmlabError if it is not one)."""
        text = text.strip()
        try:
            if len(text) != 2 * _HEX_LEN:
                raise ValueError
            public = z85.encode(bytes.fromhex(text[:_HEX_LEN]))
            bytes.fromhex(text[_HEX_LEN:])
        except ValueError:
            raise CpmlabError(
                f"not a cpmlab display key ({2 * _HEX_LEN} hex digits expected, got {len(text)} characters)"
            ) from None
        return cls(public, text[_HEX_LEN:].lower())

    def proves(self, token: str) -> bool:
        """Whether token is this session's token (constant-time comparison)."""
        return hmac.compare_digest(token.encode("utf-8", "replace"), self.token.encode("ascii"))

    def __repr__(self) -> str:
        return "SessionKey(<secret>)"


def display_key_from(path: str | None) -> SessionKey:
    """Return the key a display was given: from a key file if path is set, else from the environment."""
    if path is not None:
        file = Path(path)
        if not file.is_file() or file.stat().st_size > 1024:
            raise CpmlabError(f"display key file {path} is not a small regular file")
        return SessionKey.parse(file.read_text(encoding="utf-8", errors="replace"))
    text = os.environ.get(ENV_VAR)
    if not text:
        raise CpmlabError(
            f"no display key: the engine gives one for each session (set {ENV_VAR} or use --key-file); "
            "a display started by `cpmlab run --display` gets it by itself"
        )
    return SessionKey.parse(text)
