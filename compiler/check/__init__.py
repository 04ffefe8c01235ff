"""Checks that need the whole index: references between resources, workflow graphs per planner,
timing, and compiler compatibility.   AF3xx AF4xx AF8xx
"""
