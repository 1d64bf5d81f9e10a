"""Spec stage: read platform-spec YAML with positions, type it, check its meaning."""
