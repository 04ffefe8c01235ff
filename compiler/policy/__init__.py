"""Policies: grants, roles and limits, policy packs and CEL rules.   AF309 AF6xx"""
