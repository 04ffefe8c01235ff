"""CEL: every condition and rule found (`sites`, `conditions`), type-checked against the JSON
Schemas that type its variables (`schema_types`, `engine`), costed (`cost`) and reported with
positions inside the expression (`positions`, `check`).   AF5xx
"""
