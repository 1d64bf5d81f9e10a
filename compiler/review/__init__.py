"""Review a spec change: what it does to the platform (impact) and to every generated object (objects)."""
