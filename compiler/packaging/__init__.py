"""GitOps packaging: component outputs → sync units with a derived order → engine objects."""
