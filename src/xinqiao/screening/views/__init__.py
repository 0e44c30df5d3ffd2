"""Screening pages: public self-screening (``public``) and campaigns."""
