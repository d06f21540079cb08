"""The pure ranking core: every score, fusion, route, rule, MMR, fallback and reason; metrics.

Imports no other room, and no database, vector-store, web or model library.
"""
