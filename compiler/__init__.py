"""platformc: compile a typed AI-platform spec into GitOps-ready Kubernetes trees."""

__version__ = "0.1.0"
