"""Tool calls, each held to its step's ExecProfile: HTTP, MCP and Python tools.

`base` holds what every caller shares (`ToolCall`, `ToolError`, the `ToolCaller` protocol);
`egress` decides, before any socket opens, whether a host may be reached under a profile.
"""
