"""Callcue: local, private soft-skill cues for support agents."""

__version__ = "0.1.0"
