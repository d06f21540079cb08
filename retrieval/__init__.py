"""One request over one index version: filters, live index, caches, retrievers, results.

May import indexing, data, models, ranking.
"""
