"""AgentFlow runtime: loads compiled bundles and executes them. Never imports the compiler."""
