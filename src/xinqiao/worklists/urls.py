"""Page routes of the worklists app (namespace ``worklists``). Every route is in the permission matrix."""

from django.urls import path

from xinqiao.worklists import views

app_name = "worklists"

urlpatterns: list = [
    path("", views.overview, name="overview"),
    path("<slug:code>/", views.worklist, name="list"),
    path("<slug:code>/export.xlsx", views.worklist_export, name="export"),
]
