"""AgentFlow compiler: validates a source repository and compiles it into a bundle."""

__version__ = "0.1.0"
