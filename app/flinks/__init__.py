"""Fetch and validate: the OAuth2 client for the Flinks listing and the per-row validation."""
