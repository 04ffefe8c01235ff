"""Policies: grants, roles and limits, policy packs, CEL rules and credentials.   AF309 AF6xx"""
