"""Loading: files → YAML documents with positions → typed resources → the Index.   AF1xx AF2xx

`yaml` reads each file and `compose` builds its document from parser events (bounded,
positioned, the same with or without libyaml; `scalars` resolves plain values), `schema`
validates documents against the `model` kinds, `user_schemas` and `permissions` check the JSON
Schemas and permission lists users write inside resources, and `index` files every valid
resource by kind and name.
"""
