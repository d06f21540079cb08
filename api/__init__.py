"""HTTP and command line only: app, controllers, schemas, thin services, auth, errors, CLI.

May import every room below it: evaluation, retrieval, indexing, data, models, ranking.
"""
