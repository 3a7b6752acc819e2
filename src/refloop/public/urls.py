"""Pages of the public app: no sign-in needed."""

from django.urls import path

from refloop.public import views

urlpatterns = [
    path("refer/", views.how_to_refer, name="how_to_refer"),
    path("refer/one-pager.pdf", views.how_to_refer_pdf, name="how_to_refer_pdf"),
    path("refer/form/", views.referral_form, name="public_form"),
    path("refer/friend/<str:code>/", views.friend_form, name="public_friend_form"),
    path("refer/form/thanks/", views.referral_form_thanks, name="public_form_thanks"),
    path("refer/embed/", views.embed_snippet, name="public_embed"),
]
