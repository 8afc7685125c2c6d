"""Errors of the adaptive test, fitted into the project's tree (``vigie.exceptions``)::

VigieError
├── InvalidInput
│   └── InvalidAnswer      wrong type or unknown option ids          (answer_invalid)
└── Refused
    └── CatStateRefused   answer to a question that is not current,
                           neutralize with no current question, ...  (question_not_current, ...)
BankError (ValueError)     the bank files are broken: raised at load time, never to a client
"""

from __future__ import annotations

from vigie.exceptions import InvalidInput, Refused


class InvalidAnswer(InvalidInput, ValueError):
    """The answer does not fit the question (type, option ids, length)."""

    code = "answer_invalid"
    message = "Réponse invalide pour cette question."


class CatStateRefused(Refused):
    """The command does not fit the test's state (e.g. no current question)."""

    code = "test_state_refused"
    message = "Cette action n'est pas possible à ce stade du test."


class BankError(ValueError):
    """A bank file breaks the schema: names the file and the field."""

    def __init__(self, file: str, field: str, problem: str) -> None:
        self.file = file
        self.field = field
        self.problem = problem
        super().__init__(f"{file}: {field}: {problem}")
