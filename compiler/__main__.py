"""`python -m agentflow.compiler` is the `af` command."""

from .cli import main

raise SystemExit(main())
