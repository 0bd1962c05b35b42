"""Routers of the web application: one module per area (pages, then ``api`` for JSON)."""
