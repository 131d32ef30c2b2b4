"""Loopback stand-ins for the services salesbus talks to, for tests that use real clients."""
