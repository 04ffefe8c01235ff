"""Authoring: commands that write to a source repository, `af init` and `af upgrade`.   AF7xx

They sit above the pipeline and the review stage: `af upgrade` compiles both versions and shows
the plan diff before it writes.
"""
