"""Assurance levels of accounts: raised when a person proves more (a phone code, a partner's attestation of
their national ID, a national e-ID sign-in), never lowered by it; lowered only when what was proven no longer
holds (a verified phone number replaced by another).

Completions snapshot their learner's level when recorded (services/completions), like audience and province:
later proofs never move a completion from one level to another.
"""

from app.models.identity import Assurance, User, stronger


def raise_assurance(user: User, proven: Assurance) -> None:
    """The account keeps the stronger of its level and the newly proven one."""
    user.assurance = stronger(user.assurance, proven)


def after_phone_change(user: User) -> None:
    """A phone-verified account whose number changes proves nothing any more (stronger levels stay)."""
    if user.assurance == Assurance.phone:
        user.assurance = Assurance.none
