"""Building an index version: encoder, ALS, popularity, pipeline, live catalog, vector store.

May import data, models, ranking.
"""
