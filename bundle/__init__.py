"""The bundle format, shared by the compiler that writes bundles and the runtime that runs them.

Nothing here imports `agentflow.compiler` or `agentflow.runtime` (import-linter proves it), as
dbt keeps its artifacts upstream of the rest of dbt-core. The modules, in the order a reader meets
them:

- `canonical`: RFC 8785 canonical JSON and ``sha256:`` digests, for every byte that is hashed;
- `plan`: the compiled plan as frozen types, `plan_json` its ``plans/<workflow>.json`` form,
  `queries` what a plan reaches (bindings, (agent, tool) pairs, behavior-tree steps);
- `profile`: the ExecProfile, what one step may do, typed both ways (written and read back);
- `conditions`: evaluation of a plan's checked CEL conditions;
- `manifest`: ``bundle.json``'s format and digest checks; `archive` the reproducible
  ``.tar.gz`` (written and unpacked with its hostile-entry checks); `read` the whole bundle,
  verified, as a `read.BundleView`.
"""
