"""One module per runtime verb of `af`, each exposing ``run(args) -> int``."""
