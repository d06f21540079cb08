"""Offline evaluation: recommendations, cold-start items and search, and generated queries.

May import retrieval, indexing, data, models, ranking.
"""
