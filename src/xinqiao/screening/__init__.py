"""Psychological screening: instruments as data, the scoring engine, campaigns, public self-screening."""
