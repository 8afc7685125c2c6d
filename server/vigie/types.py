"""Identifier types shared by every layer."""

from typing import NewType

SessionId = NewType("SessionId", int)
"""The public session number, as printed on the invigilator kit."""

CandidateId = NewType("CandidateId", int)
"""A registered candidate, unique across all sessions."""

Timestamp = NewType("Timestamp", float)
"""Seconds since the Unix epoch, UTC. The server owns the clock."""
