"""The annotation loop over a workspace (the paper's steps 1–3): search, build, feeds, review,
export. Thin glue between the catalog (catalog/), the pure learning code (learn/) and the
vector index (search/); the ``Workspace`` methods of the same names call these modules.
"""
