"""Incident report categories (docs/domain.md "Formats and constants")."""

from __future__ import annotations

CATEGORIES: dict[str, str] = {
    "C1": "Modification du nom ou de la date de naissance",
    "C2": "Modification du temps majoré",
    "C4": "Problème de signature",
    "C6": "Suspicion de fraude",
    "C7": "Problème technique non bloquant",
    "C8": "Problème non bloquant du candidat",
    "E1": "L'image ne s'affiche pas",
    "E2": "Le simulateur / l'application intégrée ne fonctionne pas",
    "E3": "Le fichier ne s'ouvre pas",
    "E4": "Le site est indisponible",
    "E5": "Le site est bloqué",
    "E8": "Temps majoré dépassé",
    "E9": "Le logiciel ne fonctionne pas",
    "E10": "Sortie involontaire de la page",
    "E11": "Page d'erreur",
    "E12": "Problème d'accessibilité",
}

QUESTION_CATEGORIES = frozenset(code for code in CATEGORIES if code.startswith("E"))
"""The E categories concern one question: they need its number, and a live alert uses them."""


def needs_question_number(category: str) -> bool:
    return category in QUESTION_CATEGORIES
