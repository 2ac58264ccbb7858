"""Tests for hrarchive."""
