"""Building: a validated repository → the bundle's bytes (`assemble`), written atomically with its
archive (`write`), reused when the sources did not change (`cache`).
"""
