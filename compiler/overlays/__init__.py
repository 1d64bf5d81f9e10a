"""Overlays: hand-written objects, patches and custom components applied after the components.

load_overlays() parses overlays/ once per compile; apply_overlays() applies it to one cluster.
"""

from compiler.overlays.apply import OVERLAYS_COMPONENT, Applied, Provenance, apply_overlays
from compiler.overlays.errors import OverlayErrors, Problems
from compiler.overlays.loader import Overlays, load_overlays

__all__ = [
    "OVERLAYS_COMPONENT",
    "Applied",
    "OverlayErrors",
    "Overlays",
    "Problems",
    "Provenance",
    "apply_overlays",
    "load_overlays",
]
