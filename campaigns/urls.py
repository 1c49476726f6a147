from django.urls import path

from . import views

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("onurix/status/", views.onurix_status, name="onurix_status"),
    path("contacts/", views.contact_list, name="contact_list"),
    path("groups/", views.group_list, name="group_list"),
    path("audios/", views.audio_code_list, name="audio_code_list"),
    path("campaigns/", views.campaign_list, name="campaign_list"),
    path("campaigns/<int:pk>/", views.campaign_detail, name="campaign_detail"),
]
