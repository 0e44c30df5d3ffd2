"""Page routes of the referrals app (namespace ``referrals``). Every route is in the permission matrix
(``tests/security/routes_referrals.py``)."""

from django.urls import path

from xinqiao.referrals import views

app_name = "referrals"

urlpatterns: list = [
    path("", views.referral_list, name="referral_list"),
    path("new/", views.referral_create, name="referral_create"),
    path("export.xlsx", views.referral_export, name="referral_export"),
    path("<int:pk>/", views.referral_detail, name="referral_detail"),
    path("<int:pk>/act/", views.referral_act, name="referral_act"),
    path("emergencies/", views.emergency_list, name="emergency_list"),
    path("emergencies/new/", views.emergency_create, name="emergency_create"),
    path("emergencies/export.xlsx", views.emergency_export, name="emergency_export"),
    path("emergencies/<int:pk>/", views.emergency_detail, name="emergency_detail"),
    path("emergencies/<int:pk>/close/", views.emergency_close, name="emergency_close"),
]
