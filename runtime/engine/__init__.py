"""The engine: pure decisions over frozen types, with no I/O.

Given a plan, a run's recorded state and one event (the run started, a step finished, a timer
fired, an approval came, a cancel was asked), `decide.decide` returns the run's next state and
the commands that follow (run a step, set a timer, wait for a person, finish). Storage, the bus,
the clock and the calls themselves sit behind the protocols of `agentflow.runtime.ports`, so the
embedded runtime and the production one execute with the same lines.
"""
