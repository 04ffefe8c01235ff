"""Diagnostics: the codes registry, `Diagnostic` and the `Report` every stage reports into, the
output formats of ``--format``, positions and did-you-mean hints.
"""
