"""Public self-screening routes (no sign-in)."""

urlpatterns: list = []
