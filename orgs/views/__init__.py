"""Thin HTML views of the org layer, one module per area."""
