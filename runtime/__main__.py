"""`python -m agentflow.runtime VERB …`: the runtime's verbs of `af` (run, test, runs, audit,
runtime); `af` hands them over without importing the runtime."""

from agentflow.runtime.cli import main

raise SystemExit(main())
