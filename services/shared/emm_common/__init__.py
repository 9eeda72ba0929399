"""Shared building blocks of the EMM2.0 services: one place for what every service needs."""
