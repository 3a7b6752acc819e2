"""Addresses that outside services call: providers' delivery and reply webhooks."""

from django.urls import path

from refloop.messaging.sms_inbound import sms_inbound

urlpatterns = [
    path("hooks/sms/twilio/", sms_inbound, name="sms_inbound_twilio"),
]
