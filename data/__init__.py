"""Data from outside: the shared value parsers, the CSV import, the demo shop generator.

May import models, ranking.
"""
