"""The domain core: certification rules with no I/O (``now`` is always passed in).

Modules: ``candidate`` (live status machine), ``session`` (session status machine),
``deadlines``, ``identity`` (roster matching), ``eligibility``, ``codes`` (access code,
session password, verification code), ``incidents`` (report categories) and ``adaptive``
(question bank, item selection, scoring).
"""
