"""One module per `af` verb, each exposing ``run(args) -> int``: the flags are parsed in `cli`, the
work is done by the stages, the output is printed here.
"""
