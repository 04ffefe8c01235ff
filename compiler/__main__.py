"""`python -m agentflow.compiler` is the `af` command."""

from agentflow.compiler.cli import main

raise SystemExit(main())
