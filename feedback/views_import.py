"""Placeholder until this feature lands in this session."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
