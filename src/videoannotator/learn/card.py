"""A model card people can read: a plain-language verdict on a label's versions.

``verdict(versions)`` is pure: it reads the metrics each version stored (``loop/build.py``:
``metrics["cv"]["ap"]``, ``["counts"]`` or ``n_positive``/``n_negative``, ``["change"]``
with ``ap_delta``, ``clips_flipped``, ``new_annotations``, and ``["threshold"]``) and says,
for the newest version:

- "no model yet": no version;
- "not enough positives yet" / "not enough negatives yet": the newest version's
  cross-validation did not run (fewer than ``MIN_PER_CLASS`` = 5 positive or negative
  annotations), so nothing is measured; positives are named first when both are short;
- "too early to tell": one measured version only, or the AP barely moved but too few
  annotations were added to call it stable;
- "improving": AP rose by at least ``TREND_DELTA`` (0.02) since the previous measured
  version;
- "getting worse": AP fell by at least ``TREND_DELTA`` since the previous measured version
  (often: the new annotations are harder cases, and the model has not caught up yet);
- "stable": over the last two measured builds |AP delta| < ``STABLE_DELTA`` (0.02) each,
  with at least ``STABLE_MIN_NEW`` (10) annotations added across them — more annotations
  of this kind change little.

"AP" is the cross-validated (out-of-fold) average precision each Build measures; deltas
compare consecutive versions that have one.
"""

from __future__ import annotations

import math
from typing import Any

from .metrics import MIN_PER_CLASS

__all__ = ["STABLE_DELTA", "STABLE_MIN_NEW", "TREND_DELTA", "VERDICTS", "verdict"]

TREND_DELTA = 0.02
STABLE_DELTA = 0.02
STABLE_MIN_NEW = 10
VERDICTS = (
    "no model yet",
    "not enough positives yet",
    "not enough negatives yet",
    "improving",
    "stable",
    "getting worse",
    "too early to tell",
)


def _metrics(version: dict[str, Any]) -> dict[str, Any]:
    metrics = version.get("metrics")
    return metrics if isinstance(metrics, dict) else {}


def _ap(version: dict[str, Any]) -> float | None:
    ap = (_metrics(version).get("cv") or {}).get("ap")
    if ap is None:
        return None
    value = float(ap)
    return None if math.isnan(value) else value


def _counts(version: dict[str, Any]) -> tuple[int, int]:
    """(positive, negative) annotations the version trained on."""
    metrics = _metrics(version)
    counts = metrics.get("counts") or {}
    cv = metrics.get("cv") or {}
    pos = counts.get("positive", metrics.get("n_positive", cv.get("n_positive", 0)))
    neg = counts.get("negative", metrics.get("n_negative", cv.get("n_negative", 0)))
    return int(pos or 0), int(neg or 0)


def _name(version: dict[str, Any], index: int) -> str:
    number = version.get("version")
    return f"v{number if number is not None else index + 1}"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _since_last(versions: list[dict[str, Any]]) -> str:
    newest = versions[-1]
    name = _name(newest, len(versions) - 1)
    pos, neg = _counts(newest)
    if len(versions) == 1:
        return f"{name} is the first version: trained on {pos + neg} annotations ({pos} positive, {neg} negative)."
    before = versions[-2]
    b_pos, b_neg = _counts(before)
    change = _metrics(newest).get("change") or {}
    added = change.get("new_annotations")
    added = (pos + neg) - (b_pos + b_neg) if added is None else int(added)
    head = (
        f"since {_name(before, len(versions) - 2)}: {_plural(added, 'annotation')} added "
        f"({pos - b_pos:+d} positive, {neg - b_neg:+d} negative)"
    )
    parts = [head]
    ap_new, ap_old = _ap(newest), _ap(before)
    if ap_new is not None and ap_old is not None:
        parts.append(f"AP {ap_old:.2f} → {ap_new:.2f} ({ap_new - ap_old:+.2f})")
    elif ap_new is not None:
        parts.append(f"AP {ap_new:.2f} (not measured before)")
    else:
        parts.append("AP not measured")
    flipped = change.get("clips_flipped")
    if flipped is not None:
        parts.append(f"{_plural(int(flipped), 'clip')} changed side")
    return f"{name} {parts[0]}, " + ", ".join(parts[1:]) + "."


def _expect(version: dict[str, Any]) -> str | None:
    choice = _metrics(version).get("threshold") or {}
    keys = ("probability", "precision", "precision_low", "precision_high", "recall", "recall_low", "recall_high")
    if any(choice.get(k) is None for k in keys):
        return None
    c = {k: float(choice[k]) for k in keys}
    return (
        f"at threshold p={c['probability']:.2f} expect precision {c['precision']:.2f} "
        f"({c['precision_low']:.2f}–{c['precision_high']:.2f}) and recall {c['recall']:.2f} "
        f"({c['recall_low']:.2f}–{c['recall_high']:.2f})"
    )


def verdict(versions: list[dict[str, Any]]) -> dict[str, Any]:
    """The card for a label's versions, oldest → newest (each a dict with "metrics").

    Returns {"verdict", "why", "ap_trend", "since_last", "expect"}; see the module docstring
    for the verdicts and their thresholds.
    """
    trend = [_ap(v) for v in versions]
    if not versions:
        return {
            "verdict": "no model yet",
            "why": "No version has been built yet: annotate at least one positive and one negative clip, then Build.",
            "ap_trend": [],
            "since_last": None,
            "expect": None,
        }
    newest = versions[-1]
    name = _name(newest, len(versions) - 1)
    pos, neg = _counts(newest)
    card: dict[str, Any] = {"ap_trend": trend, "since_last": _since_last(versions), "expect": _expect(newest)}

    if trend[-1] is None:
        if pos < MIN_PER_CLASS:
            need = MIN_PER_CLASS - pos
            card["verdict"] = "not enough positives yet"
            card["why"] = (
                f"{name} has {_plural(pos, 'positive')} and {_plural(neg, 'negative')}; measuring the model needs "
                f"at least {MIN_PER_CLASS} of each — annotate {need} more positive"
                + (f" and {MIN_PER_CLASS - neg} more negative." if neg < MIN_PER_CLASS else ".")
            )
        elif neg < MIN_PER_CLASS:
            card["verdict"] = "not enough negatives yet"
            card["why"] = (
                f"{name} has {_plural(pos, 'positive')} and {_plural(neg, 'negative')}; measuring the model needs "
                f"at least {MIN_PER_CLASS} of each — annotate {MIN_PER_CLASS - neg} more negative."
            )
        else:
            card["verdict"] = "too early to tell"
            card["why"] = f"{name} has no measured AP ({pos} positive, {neg} negative annotations); build again."
        return _ordered(card)

    measured = [(i, ap) for i, ap in enumerate(trend) if ap is not None]
    ap_new = measured[-1][1]
    if len(measured) == 1:
        card["verdict"] = "too early to tell"
        card["why"] = (
            f"{name} is the first measured version (AP {ap_new:.2f} from {pos + neg} annotations); "
            "build again after more annotations to see a trend."
        )
        return _ordered(card)

    i_old, ap_old = measured[-2]
    delta = ap_new - ap_old
    old_name = _name(versions[i_old], i_old)
    total_new = pos + neg
    if delta >= TREND_DELTA:
        card["verdict"] = "improving"
        card["why"] = f"AP rose from {ap_old:.2f} ({old_name}) to {ap_new:.2f} ({name}), {delta:+.2f}."
        return _ordered(card)
    if delta <= -TREND_DELTA:
        card["verdict"] = "getting worse"
        card["why"] = (
            f"AP fell from {ap_old:.2f} ({old_name}) to {ap_new:.2f} ({name}), {delta:+.2f}; "
            "the new annotations may be harder cases — review them or annotate more."
        )
        return _ordered(card)

    # Small change: stable only if the build before moved little too, with enough annotations.
    if len(measured) >= 3:
        i_base, ap_base = measured[-3]
        base_pos, base_neg = _counts(versions[i_base])
        added = total_new - (base_pos + base_neg)
        steady = abs(ap_old - ap_base) < STABLE_DELTA and abs(delta) < STABLE_DELTA
        if steady and added >= STABLE_MIN_NEW:
            card["verdict"] = "stable"
            card["why"] = (
                f"AP stayed within {STABLE_DELTA:.2f} over the last two builds "
                f"({ap_base:.2f} → {ap_old:.2f} → {ap_new:.2f}) while {added} annotations were added; "
                "more annotations of this kind change little."
            )
            return _ordered(card)
        card["verdict"] = "too early to tell"
        if steady:
            card["why"] = (
                f"AP barely moved ({ap_base:.2f} → {ap_old:.2f} → {ap_new:.2f}) but only {added} annotations "
                f"were added over the last two builds; at least {STABLE_MIN_NEW} are needed to call it stable."
            )
        else:
            card["why"] = (
                f"AP moved {delta:+.2f} since {old_name} ({ap_old:.2f} → {ap_new:.2f}) after "
                f"{ap_old - ap_base:+.2f} the build before; build again after more annotations."
            )
        return _ordered(card)
    card["verdict"] = "too early to tell"
    card["why"] = (
        f"AP moved {delta:+.2f} since {old_name} ({ap_old:.2f} → {ap_new:.2f}); "
        "one more build is needed to tell whether it is stable."
    )
    return _ordered(card)


def _ordered(card: dict[str, Any]) -> dict[str, Any]:
    return {k: card[k] for k in ("verdict", "why", "ap_trend", "since_last", "expect")}
