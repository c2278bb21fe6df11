"""Build tools run by a developer, never by the product (the runtime packages do not import them)."""
