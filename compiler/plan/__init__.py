"""Planning: validated resources → normalized plans, ExecProfiles, environment checks, costs and
plan-cache keys.   AF6xx AF8xx
"""
