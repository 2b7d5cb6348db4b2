"""Registers aflab tasks and model providers with inspect_ai (entry point)."""
