"""Step 4's monitoring: how a deployed version does on what it scores in production.

``stats.py`` holds the pure statistics (PSI drift, Wilson and Beta intervals, the stratified
recall estimate); ``report.py`` reads the workspace: the score batches of the live version,
its production feed and the annotations made on it.
"""
