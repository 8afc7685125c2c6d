"""Matching a joining candidate against the roster (docs/domain.md flow, step 7).

Names match ignoring accents, case and punctuation; the birthdate must be exact.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import TypeVar

from vigie.exceptions import NotFound, Refused


class IdentityNotFound(NotFound):
    code = "identity_not_found"
    message = (
        "Aucun candidat inscrit ne correspond. Vérifiez le numéro de session, vos nom, prénom "
        "et date de naissance tels qu'écrits sur la feuille d'émargement."
    )


class IdentityAmbiguous(Refused):
    code = "identity_ambiguous"
    message = "Plusieurs candidats correspondent à ces informations. Appelez votre surveillant."


# Letters that Unicode does not decompose into a base letter and a diacritic: without this,
# "Lætitia" would become "LTITIA" and never match the "Laetitia" a candidate types.
_LIGATURES = str.maketrans(
    {"Œ": "OE", "œ": "oe", "Æ": "AE", "æ": "ae", "Ø": "O", "ø": "o", "Đ": "D", "đ": "d",
     "Ð": "D", "ð": "d", "Ł": "L", "ł": "l", "Þ": "TH", "þ": "th"}
)  # fmt: skip


def normalize_name(value: str) -> str:
    """Strip diacritics, uppercase, keep only [0-9A-Z]: ``N'Diaye`` -> ``NDIAYE``."""
    decomposed = unicodedata.normalize("NFKD", value.translate(_LIGATURES))
    ascii_only = "".join(c for c in decomposed if not unicodedata.combining(c))
    return "".join(c for c in ascii_only.upper() if c.isascii() and c.isalnum())


@dataclass(frozen=True, slots=True)
class Identity:
    last_name: str
    first_name: str
    birthdate: date


T = TypeVar("T")


def match_identity(wanted: Identity, roster: Iterable[tuple[Identity, T]]) -> T:
    """Return the one roster entry matching ``wanted``; 0 and several are distinct errors."""
    last = normalize_name(wanted.last_name)
    first = normalize_name(wanted.first_name)
    found = [
        value
        for identity, value in roster
        if identity.birthdate == wanted.birthdate
        and normalize_name(identity.last_name) == last
        and normalize_name(identity.first_name) == first
    ]
    if not found or not last:
        raise IdentityNotFound()
    if len(found) > 1:
        raise IdentityAmbiguous()
    return found[0]
