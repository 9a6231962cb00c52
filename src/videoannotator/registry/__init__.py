"""Step 4's registry: every Build is a version; a label's production alias points at one.

``versions.py`` reads a version's calibrated probabilities and threshold, deploys, rolls back
and counts the production decisions a deploy would change; ``card.py`` is the model card;
``artifact.py`` the self-contained export that ``videoannotator.score`` applies with numpy.
"""
