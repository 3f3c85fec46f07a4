"""Access tokens: RS256 only, our own keys, and the per-process memory of tokens already verified."""

import time

import pytest

from app.core import security
from app.core.security import InvalidToken, KeyRing, access_claims


def token(keyring: KeyRing, settings, **extra) -> str:
    return keyring.sign(access_claims(settings, subject="u-1", role="learner", ttl_s=900, extra=extra))


def decode(keyring: KeyRing, settings, value: str) -> dict:
    return keyring.decode(value, audience=settings.jwt_audience, issuer=settings.jwt_issuer)


def test_a_token_verified_once_is_answered_from_memory(keyring, settings, monkeypatch):
    value = token(keyring, settings)
    first = decode(keyring, settings, value)
    monkeypatch.setattr(keyring, "_verify", lambda *a, **k: pytest.fail("verified twice"))
    again = decode(keyring, settings, value)
    assert again == first
    again["role"] = "ministry_admin"  # callers get a copy: the remembered claims cannot be changed
    assert decode(keyring, settings, value)["role"] == "learner"


def test_a_remembered_token_is_verified_again_once_it_expires(keyring, settings, monkeypatch):
    value = token(keyring, settings)
    exp = decode(keyring, settings, value)["exp"]
    monkeypatch.setattr(time, "time", lambda: exp + 1)

    def verify(*args, **kwargs):
        raise InvalidToken("Signature has expired.")  # what python-jose says at that time

    monkeypatch.setattr(keyring, "_verify", verify)
    with pytest.raises(InvalidToken):
        decode(keyring, settings, value)
    assert (value, settings.jwt_audience, settings.jwt_issuer) not in keyring._verified


def test_a_changed_signature_is_verified_afresh_and_refused(keyring, settings):
    value = token(keyring, settings)
    decode(keyring, settings, value)
    head, body, signature = value.split(".")
    forged = ".".join([head, body, signature[:-4] + ("AAAA" if signature[-4:] != "AAAA" else "BBBB")])
    with pytest.raises(InvalidToken):
        decode(keyring, settings, forged)


def test_the_memory_is_bounded(keyring, settings, monkeypatch):
    monkeypatch.setattr(security, "VERIFIED_TOKENS_KEPT", 3)
    fresh = KeyRing(list(keyring.keys.values()), keyring.signing.kid)  # the shared ring remembers other tests'
    values = [token(fresh, settings) for _ in range(5)]
    for value in values:
        decode(fresh, settings, value)
    assert list(fresh._verified) == [(v, settings.jwt_audience, settings.jwt_issuer) for v in values[2:]]


@pytest.mark.parametrize("missing", ["aud", "iss", "sub", "exp", "role"])
def test_an_access_token_must_carry_aud_iss_sub_exp_and_role(keyring, settings, missing):
    claims = access_claims(settings, subject="u-1", role="learner", ttl_s=900)
    del claims[missing]
    with pytest.raises(InvalidToken):
        decode(keyring, settings, keyring.sign(claims))


def test_a_credential_signed_by_our_key_never_acts_as_an_access_token(keyring, settings):
    """Even one carrying every access-token claim: the `vc` claim marks it as a certificate credential."""
    credential = {"iss": settings.jwt_issuer, "sub": "u-1", "jti": "urn:uuid:1", "nbf": int(time.time()),
                  "iat": int(time.time()), "vc": {"type": ["VerifiableCredential"]}}
    with pytest.raises(InvalidToken):
        decode(keyring, settings, keyring.sign(credential))
    forged = access_claims(settings, subject="u-1", role="learner", ttl_s=900, extra={"vc": {}})
    with pytest.raises(InvalidToken):
        decode(keyring, settings, keyring.sign(forged))
