"""Fake external services (Slack, SMTP) on 127.0.0.1, shared by integration and e2e tests."""
