"""Campaign routes (namespace ``screening``): psychologists' pages, alert tasks, and the participant
pages reached by access code (no sign-in)."""

from django.urls import path

from xinqiao.screening.views import campaigns

urlpatterns: list = [
    path("campaigns/", campaigns.campaign_list, name="campaign_list"),
    path("campaigns/new/", campaigns.campaign_create, name="campaign_create"),
    path("campaigns/<int:pk>/", campaigns.campaign_detail, name="campaign_detail"),
    path("campaigns/<int:pk>/results/", campaigns.campaign_results, name="campaign_results"),
    path("campaigns/<int:pk>/export.xlsx", campaigns.campaign_export, name="campaign_export"),
    path("campaigns/<int:pk>/summary.pdf", campaigns.campaign_summary, name="campaign_summary"),
    path("responses/<int:pk>/", campaigns.response_detail, name="response_detail"),
    path("responses/<int:pk>/unmask/", campaigns.response_unmask, name="response_unmask"),
    path("responses/<int:pk>/actions/", campaigns.response_action, name="response_action"),
    path("alerts/", campaigns.alert_list, name="alert_list"),
    path("alerts/<int:pk>/ack/", campaigns.alert_ack, name="alert_ack"),
    path("c/<str:code>/", campaigns.participant, name="participant"),
    path("c/<str:code>/done/", campaigns.participant_done, name="participant_done"),
]
