#!/usr/bin/env python3
"""Verify a HocSo certificate credential (Open Badges 3.0 VC-JWT) with joserfc, independently of HocSo's code.

    pip install joserfc
    # online: fetch the issuer's public keys
    python verify_credential.py credential.jwt --jwks https://hocso.example.gov.vn/.well-known/jwks.json
    # offline: keys saved earlier (the JWKS is public; keep a copy, it changes only when keys rotate)
    python verify_credential.py credential.jwt --jwks-file hocso-jwks.json \
        --issuer https://hocso.example.gov.vn/api/v1/issuer

The credential argument is the compact JWT itself or a file holding it. Exit status 0 when the signature
and the claims hold, 1 otherwise. The signature proves HocSo issued exactly this content; whether the
certificate has been revoked since is online information: open `vc.credentialStatus.id`.
"""

import argparse
import json
import sys
import urllib.request
from pathlib import Path
from typing import Any

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

OB_TYPE = "OpenBadgeCredential"


def load_jwks(*, url: str | None = None, path: str | None = None) -> dict[str, Any]:
    if path:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    assert url, "give a JWKS URL or file"
    with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - an https URL the user chose
        return json.load(response)


def verify(token: str, jwks: dict[str, Any], *, issuer: str | None = None) -> dict[str, Any]:
    """The verified claims of `token`; raises JoseError or ValueError when it does not verify.

    - RS256 only, key chosen by the token's `kid` among the JWKS keys (never a key the token carries);
    - `iss` present (and equal to `issuer` when given), `nbf` not in the future, `jti` present;
    - the payload's `vc` is an OpenBadgeCredential whose issuer, id and subject match iss, jti and sub.
    """
    keys = KeySet.import_key_set(jwks)
    decoded = jwt.decode(token.strip(), keys, algorithms=["RS256"])
    claims = decoded.claims
    expected: dict[str, Any] = {"essential": True}
    if issuer:
        expected["value"] = issuer
    jwt.JWTClaimsRegistry(iss=expected, nbf={"essential": True}, jti={"essential": True}).validate(claims)
    vc = claims.get("vc")
    if not isinstance(vc, dict) or OB_TYPE not in vc.get("type", []):
        raise ValueError("the payload holds no OpenBadgeCredential")
    if vc.get("issuer", {}).get("id") != claims["iss"] or vc.get("id") != claims["jti"]:
        raise ValueError("the credential's issuer or id disagrees with the JWT claims")
    if vc.get("credentialSubject", {}).get("id") != claims.get("sub"):
        raise ValueError("the credential's subject disagrees with the JWT `sub`")
    return claims


def summary(claims: dict[str, Any]) -> str:
    vc = claims["vc"]
    subject = vc["credentialSubject"]
    names = [i["identityHash"] for i in subject.get("identifier", []) if i.get("identityType") == "name"]
    return "\n".join([
        "OK: signature and claims verified",
        f"  learner:  {', '.join(names) or subject.get('id')}",
        f"  course:   {subject['achievement']['name']}",
        f"  issuer:   {vc['issuer'].get('name')} ({claims['iss']})",
        f"  issued:   {vc['validFrom']}",
        f"  status:   check online at {vc.get('credentialStatus', {}).get('id', '(none given)')}",
    ])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("credential", help="the compact VC-JWT, or a file holding it")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--jwks", help="URL of the issuer's JWKS (…/.well-known/jwks.json)")
    source.add_argument("--jwks-file", help="a saved copy of the issuer's JWKS")
    parser.add_argument("--issuer", help="the issuer id to require (…/api/v1/issuer)")
    args = parser.parse_args(argv)
    token = args.credential
    if token.count(".") != 2 or Path(token).suffix in (".jwt", ".txt"):  # a file, not the token itself
        token = Path(token).read_text(encoding="utf-8")
    try:
        claims = verify(token, load_jwks(url=args.jwks, path=args.jwks_file), issuer=args.issuer)
    except (JoseError, ValueError) as exc:
        print(f"NOT VERIFIED: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    print(summary(claims))
    return 0


if __name__ == "__main__":
    sys.exit(main())
