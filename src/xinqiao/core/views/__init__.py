"""Page views of the platform foundation, one module per area; each view stays thin."""
