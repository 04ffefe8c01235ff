"""The source format as typed, frozen models, one module per kind of SPEC §1.   (no diagnostics)

`base` holds the strict scalars and the shared pieces, `resources` the eight kinds and
`KIND_MODELS`; `units` and `versions` turn durations, quantities and npm ranges into values;
`walk` visits a workflow's steps and behavior-tree nodes; `export` writes ``schemas/``.
"""
