"""One source for every list of names the CLI, the API schemas, the page and the reports share.

Click choices and pydantic ``Literal`` types are derived from these tuples, and the page reads
them from ``GET /api/meta``; nothing else spells them out.
"""

from __future__ import annotations

from typing import Final

#: The four feeds Build computes (the paper's active-learning feeds), in the page's tab order.
FEED_NAMES: Final = ("top_positive", "top_negative", "borderline", "random")

#: What a person can say about a clip for a label.
VOTE_VALUES: Final = ("positive", "negative", "skip")

#: A clip's current value for a label: the votes aggregated ("unresolved": annotators disagree).
CURRENT_VALUES: Final = ("positive", "negative", "skip", "unresolved")

#: What the event log records: a vote, or "cleared" when one was undone.
EVENT_VALUES: Final = ("positive", "negative", "skip", "cleared")

#: Filters of the review (step 3).
REVIEW_FILTERS: Final = ("all", *CURRENT_VALUES, "model_disagrees", "annotators_disagree")

#: ``va export`` / ``GET /api/labels/{label}/export``.
EXPORT_WHAT: Final = ("annotations", "events", "model", "segments")
EXPORT_FORMATS: Final = ("jsonl", "json", "csv")
#: Segments also export as an OpenTimelineIO timeline or a CMX 3600 EDL (editing tools).
SEGMENT_FORMATS: Final = ("otio", "edl", "csv", "json")

#: The source recorded on annotations made on the production feed (monitoring, the fix loop).
PRODUCTION_SOURCE: Final = "production"
#: ``va score --out``: the table formats, by file extension.
SCORE_FORMATS: Final = (".parquet", ".csv")

#: The offline default embedder (ConSE over EfficientNet-Lite0 and MiniLM) and its width.
DEFAULT_EMBEDDER: Final = "conse-effnet-minilm"
DEFAULT_DIM: Final = 384

#: Ids and versions: the largest integer a JSON number keeps exactly in a browser (2**53 - 1).
MAX_ID: Final = 2**53 - 1

#: Largest page a search, feed or review call returns.
MAX_PAGE: Final = 1000


def meta() -> dict[str, object]:
    """Everything above as one JSON object (``GET /api/meta``)."""
    return {
        "feeds": list(FEED_NAMES),
        "vote_values": list(VOTE_VALUES),
        "current_values": list(CURRENT_VALUES),
        "review_filters": list(REVIEW_FILTERS),
        "export_what": list(EXPORT_WHAT),
        "export_formats": list(EXPORT_FORMATS),
        "segment_formats": list(SEGMENT_FORMATS),
        "production_source": PRODUCTION_SOURCE,
        "default_embedder": DEFAULT_EMBEDDER,
        "default_dim": DEFAULT_DIM,
        "max_page": MAX_PAGE,
    }
