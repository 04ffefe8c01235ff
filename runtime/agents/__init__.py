"""Agents' own work: model calls over the OpenAI-compatible Chat Completions API, and the loop
that lets a model call the agent's tools, each under its own ExecProfile.

`base` holds the chat types and the `ModelClient` protocol; `openai` is the HTTP client;
`messages` builds what the model is told and judges its answer; `budget` holds the `Budget`
protocol and `Usage`; `loop.run_agent_step` runs one step of an ``llm`` agent.
"""
