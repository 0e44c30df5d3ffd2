"""Page routes of the foundation (namespace ``core``). Every route is in the permission matrix."""

from django.urls import path

from xinqiao.core.views import accounts, audit, home, organisations, persons, regions

app_name = "core"

urlpatterns = [
    path("", home.home, name="home"),
    path("healthz", home.healthz, name="healthz"),
    path("accounts/login/", accounts.LoginView.as_view(), name="login"),
    path("accounts/logout/", accounts.LogoutView.as_view(), name="logout"),
    path("accounts/two-factor/", accounts.two_factor, name="two_factor"),
    path("regions/", regions.region_browser, name="region_browser"),
    path("regions/search/", regions.region_search, name="region_search"),
    path("regions/<str:code>/", regions.region_children, name="region_children"),
    path("organisations/", organisations.organisation_list, name="organisation_list"),
    path("organisations/<int:pk>/", organisations.organisation_detail, name="organisation_detail"),
    path("persons/", persons.person_list, name="person_list"),
    path("persons/new/", persons.person_create, name="person_create"),
    path("persons/export.xlsx", persons.person_export, name="person_export"),
    path("persons/<int:pk>/", persons.person_detail, name="person_detail"),
    path("persons/<int:pk>/unmask/", persons.person_unmask, name="person_unmask"),
    path("audit/", audit.audit_list, name="audit_list"),
]
