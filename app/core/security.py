"""Signing keys, JWTs (RS256 via python-jose, algorithms pinned) and secret hashing (argon2id)."""

import hashlib
import hmac
import secrets
import time
import uuid
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cached_property
from pathlib import Path
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jose import jwk, jwt
from jose.backends.base import Key
from jose.exceptions import JOSEError

from app.core.config import Settings

ALGORITHM = "RS256"
VERIFIED_TOKENS_KEPT = 4096  # per process; about 4 MB of tokens and claims
_hasher = PasswordHasher()  # argon2id with the library's vetted defaults
# Verified against when the account does not exist, so response time does not reveal which accounts exist.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


def hash_secret(secret: str) -> str:
    return _hasher.hash(secret)


def verify_secret(secret: str, hashed: str | None) -> bool:
    try:
        return _hasher.verify(hashed or _DUMMY_HASH, secret) and hashed is not None
    except (VerificationError, InvalidHashError):
        return False


def digest_token(token: str) -> str:
    """Opaque tokens are high-entropy, so a fast hash is enough to store them safely."""
    return hashlib.sha256(token.encode()).hexdigest()


def keyed_hash(secret_key: str, purpose: str, value: str) -> str:
    """HMAC of a value under the service secret, for lookups of data we must not keep in clear."""
    return hmac.new(f"{purpose}:{secret_key}".encode(), value.encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class SigningKey:
    kid: str
    private_pem: str
    public_pem: str

    # Parsed once: python-jose would re-parse the PEM on every call, and loading an RSA private key runs
    # its consistency checks on every token signed (docs/benchmarks.md, 2026-11-23 "Fixed that day" 1).
    @cached_property
    def signer(self) -> Key:
        return jwk.construct(self.private_pem, ALGORITHM)

    @cached_property
    def verifier(self) -> Key:
        return jwk.construct(self.public_pem, ALGORITHM)

    @property
    def public_jwk(self) -> dict[str, Any]:
        data = jwk.construct(self.public_pem, ALGORITHM).to_dict()
        return {k: (v.decode() if isinstance(v, bytes) else v) for k, v in data.items()} | {
            "kid": self.kid, "use": "sig", "alg": ALGORITHM,
        }


class KeyRing:
    """The RSA keys in `<keys_dir>/<kid>.pem`: one signs, all verify (so keys can rotate)."""

    def __init__(self, keys: list[SigningKey], signing_kid: str) -> None:
        self.keys = {k.kid: k for k in keys}
        self.signing = self.keys[signing_kid]
        # Tokens this process verified, until they expire: a ministry or province system sends the same token
        # with every request for its lifetime, and RSA verification through python-jose was the largest
        # cost of a cached stats answer (docs/benchmarks.md). Keyed by the whole token, so a changed byte is a
        # new token, verified from scratch.
        self._verified: OrderedDict[tuple[str, str | None, str], dict[str, Any]] = OrderedDict()

    @classmethod
    def load(cls, settings: Settings, *, create_dev_key: bool) -> "KeyRing":
        directory = settings.keys_dir
        pems = sorted(directory.glob("*.pem")) if directory.is_dir() else []
        if not pems and create_dev_key:
            pems = [_generate_dev_key(directory)]
        if not pems:
            raise RuntimeError(f"No signing keys in {directory}; set HOCSO_JWT_KEYS_DIR")
        keys = []
        for pem in pems:
            private = serialization.load_pem_private_key(pem.read_bytes(), password=None)
            public = private.public_key().public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
            keys.append(SigningKey(pem.stem, pem.read_text(), public.decode()))
        return cls(keys, settings.jwt_signing_kid or keys[-1].kid)

    def jwks(self) -> dict[str, Any]:
        return {"keys": [k.public_jwk for k in self.keys.values()]}

    def sign(self, claims: dict[str, Any], *, typ: str = "JWT") -> str:
        return jwt.encode(claims, self.signing.signer, algorithm=ALGORITHM,
                          headers={"kid": self.signing.kid, "typ": typ})

    def decode(self, token: str, *, audience: str | None, issuer: str) -> dict[str, Any]:
        """Verify signature (RS256 only, key chosen by our own `kid`), expiry, issuer and audience."""
        seen = (token, audience, issuer)
        claims = self._verified.get(seen)
        if claims is not None:
            if claims["exp"] > time.time():
                self._verified.move_to_end(seen)
                return dict(claims)
            del self._verified[seen]
        claims = self._verify(token, audience=audience, issuer=issuer)
        self._verified[seen] = claims
        while len(self._verified) > VERIFIED_TOKENS_KEPT:
            self._verified.popitem(last=False)
        return dict(claims)

    def _verify(self, token: str, *, audience: str | None, issuer: str) -> dict[str, Any]:
        try:
            header = jwt.get_unverified_header(token)
        except JOSEError as exc:
            raise InvalidToken("malformed") from exc
        if header.get("alg") != ALGORITHM:
            raise InvalidToken("algorithm")
        key = self.keys.get(str(header.get("kid")))
        if key is None:
            raise InvalidToken("unknown key")
        try:
            # python-jose checks `aud`, `iss` and `sub` only when the token has them: each must be required,
            # or a token signed by our key without `aud` (a certificate credential) would pass.
            claims = jwt.decode(token, key.verifier, algorithms=[ALGORITHM], audience=audience, issuer=issuer,
                                options={"verify_aud": audience is not None, "require_aud": audience is not None,
                                         "require_iss": True, "require_sub": True, "require_exp": True})
        except JOSEError as exc:
            raise InvalidToken(str(exc)) from exc
        if "vc" in claims or not isinstance(claims.get("role"), str):
            raise InvalidToken("not an access token")  # a credential never acts as one, whatever it carries
        return claims


class InvalidToken(Exception):
    pass


def _generate_dev_key(directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    path = directory / f"dev-{datetime.now(UTC):%Y%m%d}-{secrets.token_hex(3)}.pem"
    path.write_bytes(private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ))
    path.chmod(0o600)
    return path


def access_claims(settings: Settings, *, subject: str, role: str, ttl_s: int,
                  extra: dict[str, Any] | None = None) -> dict[str, Any]:
    now = datetime.now(UTC)
    return {
        "sub": subject, "role": role, "aud": settings.jwt_audience, "iss": settings.jwt_issuer,
        "iat": int(now.timestamp()), "exp": int((now + timedelta(seconds=ttl_s)).timestamp()),
        "jti": uuid.uuid4().hex, **(extra or {}),
    }


