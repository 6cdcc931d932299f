from django.urls import path

from . import views

app_name = "groups"
urlpatterns = [
    path("", views.group_list, name="list"),
    path("new/", views.group_create, name="create"),
    path("<int:group_id>/", views.group_detail, name="detail"),
    path("<int:group_id>/edit/", views.group_edit, name="edit"),
    path("<int:group_id>/members/", views.group_member_add, name="member_add"),
    path("<int:group_id>/members/<int:member_id>/leave/", views.group_member_leave,
         name="member_leave"),
    path("<int:group_id>/level/", views.group_level, name="level"),
    path("<int:group_id>/partners/", views.group_partner_add, name="partner_add"),
]
