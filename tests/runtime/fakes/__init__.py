"""Fakes and builders other runtime tests reuse: a real loopback tool server, profiles, calls."""
