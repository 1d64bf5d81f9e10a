"""CRD JSON schemas: the catalog conversion, the embedded bundle of pinned versions, and pull."""
