"""Planning: validated resources → normalized plans, ExecProfiles, how to call each reached tool,
environment checks, costs and plan-cache keys.   AF6xx AF8xx
"""
