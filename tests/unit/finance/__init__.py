"""Tests of flowplan.finance."""
