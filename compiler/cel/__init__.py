"""Kubernetes CEL on a real engine (cel-python): evaluation, type checking, VAP and DRA semantics."""

from .admission import AdmissionRequest, Decision, Violation, admit, label_selector_matches
from .checker import TypeCheckError, check_expression
from .dra import DEVICE_TYPE, check_selector, device_class_matches, selector_matches
from .engine import CelError, CelSyntaxError, UnsupportedSyntax, compile_expression, evaluate
from .policy_check import check_policy, kind_type, plural

__all__ = [
    "DEVICE_TYPE",
    "AdmissionRequest",
    "CelError",
    "CelSyntaxError",
    "Decision",
    "TypeCheckError",
    "UnsupportedSyntax",
    "Violation",
    "admit",
    "check_expression",
    "check_policy",
    "check_selector",
    "compile_expression",
    "device_class_matches",
    "evaluate",
    "kind_type",
    "label_selector_matches",
    "plural",
    "selector_matches",
]
