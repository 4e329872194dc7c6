"""Test helpers for plait and its plugins: part of the product (pytest plugin ``plait``)."""
