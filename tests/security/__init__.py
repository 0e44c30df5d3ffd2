"""Security tests: the permission matrix over every route."""
