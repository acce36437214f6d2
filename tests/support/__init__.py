"""Shared test helpers: what this machine offers (``machine``), profile writers,
PowerShell parsing and bounded waiting loops. Import as ``from support import ...``."""
