"""Hanoi Innovation Portal: one package per domain (see ARCHITECTURE.md)."""
