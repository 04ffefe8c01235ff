"""Agents' own work: model calls over the OpenAI-compatible Chat Completions API, and the loop
that lets a model call the agent's tools, each under its own ExecProfile."""
