"""Unit tests of the monitoring engines."""
