"""Vigie: the live hub of supervised certification sessions."""

__version__ = "0.1.0"
