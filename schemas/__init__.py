"""The published JSON Schemas (data only).

Installed as `agentflow.bundle.schemas`, so that the bundle format ships the schemas of its own
files (bundle, plan, profile, bundle-tool) for readers that validate a bundle; `__init__.py`
only makes the folder a package.
"""
