"""Helpers shared by counsel's tests."""
