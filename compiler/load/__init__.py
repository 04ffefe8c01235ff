"""Loading: files → YAML documents with positions → typed resources → the Index.   AF1xx AF2xx

`yaml` composes each file from parser events (bounded, positioned), `schema` validates documents
against the `model` kinds, `user_schemas` and `permissions` check the JSON Schemas and permission
lists users write inside resources, and `index` files every valid resource by kind and name.
"""
