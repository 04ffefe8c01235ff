"""Sources: a folder or a git revision → a `snapshot.Snapshot` and its `provenance.Provenance`.

`read.read_source` is the one entry every command uses; `git` reads revisions straight from the
object store with GitPython, which loads only when ``--rev`` asks for it.
"""
