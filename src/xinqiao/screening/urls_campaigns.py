"""Campaign routes (psychologists; participants by access code)."""

urlpatterns: list = []
