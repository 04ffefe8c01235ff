"""Templates: the semver registry, typed parameters, sandboxed Jinja rendering and the map from
rendered text back to asset positions; rendered resources join the index.   AF7xx
"""
