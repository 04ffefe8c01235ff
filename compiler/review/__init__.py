"""Review: what a change does, for people. The semantic diff of two bundles (`diff`, with its
`changes` per plan and `escalations`), its output formats, the sides it compares, and pictures of
plans (`draw`, for `af graph` and the diff's Markdown).
"""
