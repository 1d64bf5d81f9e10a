"""Helm charts as inputs: locating pinned archives and rendering them with real Helm."""
