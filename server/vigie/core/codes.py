"""Generators and validators of the codes of docs/domain.md "Formats and constants".

All generators draw from ``secrets`` (a CSPRNG): these codes guard access to a session.
"""

from __future__ import annotations

import re
import secrets

PASSWORD_ALPHABET = "23456789bcdfghjkmpqrstvwxyBCDFGHJKMPQRSTVWXY!*?"  # noqa: S105
PASSWORD_LENGTH = 6
ACCESS_CODE_LETTERS = "BCDFGHJKMPQRTVWXY"
ACCESS_CODE_DIGITS = "2346789"
VERIFICATION_ALPHABET = "2346789BCDFGHJKMPQRTVWXY"
VERIFICATION_PREFIX = "P-"

_ACCESS_CODE_RE = re.compile(rf"^[{ACCESS_CODE_LETTERS}]{{4}}[{ACCESS_CODE_DIGITS}]{{2}}$")
_VERIFICATION_RE = re.compile(rf"^P-[{VERIFICATION_ALPHABET}]{{8}}$")


def new_session_password() -> str:
    """Six characters of the password alphabet, no character repeated."""
    pool = list(PASSWORD_ALPHABET)
    chosen = []
    for _ in range(PASSWORD_LENGTH):
        chosen.append(pool.pop(secrets.randbelow(len(pool))))
    return "".join(chosen)


def is_session_password(value: str) -> bool:
    return (
        len(value) == PASSWORD_LENGTH
        and len(set(value)) == PASSWORD_LENGTH
        and all(c in PASSWORD_ALPHABET for c in value)
    )


def new_access_code() -> str:
    """Four letters then two digits, e.g. ``KDMF47``."""
    letters = "".join(secrets.choice(ACCESS_CODE_LETTERS) for _ in range(4))
    digits = "".join(secrets.choice(ACCESS_CODE_DIGITS) for _ in range(2))
    return letters + digits


def normalize_access_code(value: str) -> str:
    """Candidates may type the code in lower case or with spaces around it."""
    return value.strip().upper()


def is_access_code(value: str) -> bool:
    return bool(_ACCESS_CODE_RE.fullmatch(value))  # "$" alone accepts a trailing "\n"


def new_verification_code() -> str:
    """``P-`` and eight characters; uniqueness is the records store's job (unique index)."""
    return VERIFICATION_PREFIX + "".join(secrets.choice(VERIFICATION_ALPHABET) for _ in range(8))


def is_verification_code(value: str) -> bool:
    return bool(_VERIFICATION_RE.fullmatch(value))
