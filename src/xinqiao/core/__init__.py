"""Shared core of xinqiao: models, audit, crypto and validation helpers used across apps."""
