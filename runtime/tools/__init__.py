"""Tool calls, each held to its step's ExecProfile: HTTP, MCP and Python tools.

`base` holds what every caller shares (`ToolCall`, `ToolError`, the `ToolCaller` protocol);
`callers.ToolCallers` is the one caller a worker holds, which checks a call in order (circuit
`breaker`, input `schemas`, `egress`) and hands it to the caller of its type: `http`, `python`
(run by `process`, with its child side in `python_child`) or the MCP caller it is given.
`egress` decides, before any socket opens, whether a host may be reached under a profile; its
`egress_client` is the httpx client every caller that opens connections should use.
"""
