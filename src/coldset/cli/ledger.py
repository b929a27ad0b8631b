"""Ledger commands: ``verify``, ``proof``, ``entry``, ``export``."""
