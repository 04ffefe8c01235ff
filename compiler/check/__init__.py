"""Checks that need the whole index: references between resources, workflow graphs per planner,
timing, compiler compatibility, and scenarios against the plans they run.   AF3xx AF4xx AF8xx
AF9xx
"""
