"""Micro-measurements behind fixes recorded in docs/benchmarks.md (CPU time per operation, this process only).

    .venv/bin/python -m bench.micro tokens    # signing/verifying a JWT from the PEM each time vs a parsed key
"""

import sys
import time
from collections.abc import Callable
from pathlib import Path

from jose import jwt

from app.core.config import Settings
from app.core.security import ALGORITHM, KeyRing, access_claims

ROOT = Path(__file__).resolve().parent.parent


def cpu_ms(operation: Callable[[], object], times: int) -> float:
    began = time.process_time()
    for _ in range(times):
        operation()
    return (time.process_time() - began) * 1000 / times


def tokens() -> None:
    keys_dir = ROOT / "var" / "bench" / "server" / "keys"
    settings = Settings(jwt_keys_dir=keys_dir, data_dir=keys_dir.parent, _env_file=None)
    ring = KeyRing.load(settings, create_dev_key=True)
    key = ring.signing
    claims = access_claims(settings, subject="bench", role="learner", ttl_s=900)
    token = ring.sign(claims)
    check = {"algorithms": [ALGORITHM], "audience": settings.jwt_audience, "issuer": settings.jwt_issuer}
    rows = [
        ("sign, PEM parsed per call (before)", cpu_ms(lambda: jwt.encode(claims, key.private_pem, ALGORITHM), 20)),
        ("sign, parsed key (KeyRing.sign now)", cpu_ms(lambda: ring.sign(claims), 500)),
        ("verify, PEM parsed per call (before)", cpu_ms(lambda: jwt.decode(token, key.public_pem, **check), 500)),
        ("verify, parsed key (KeyRing.decode now)", cpu_ms(
            lambda: ring.decode(token, audience=settings.jwt_audience, issuer=settings.jwt_issuer), 500)),
    ]
    for label, ms in rows:
        print(f"{label:<42} {ms:8.3f} ms CPU")


if __name__ == "__main__":
    {"tokens": tokens}[sys.argv[1] if len(sys.argv) > 1 else "tokens"]()
