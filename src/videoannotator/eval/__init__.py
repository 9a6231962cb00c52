"""The evaluation harness: a simulated annotator spends annotation budgets; AP on held-out data.

    from videoannotator.eval import EvalConfig, load_suite, run_experiment, write_outputs
    results = run_experiment(load_suite("fashion-mnist"), EvalConfig(seeds=3))
    write_outputs(results, "eval-out")      # results.json, results.md, ap-vs-annotations.png

Modules: ``datasets`` (the Dataset, the generic and paper formats, the workspace suite,
the held-out split), ``fashion`` (the Fashion-MNIST suite), ``synthetic`` (known answers),
``bandits`` (feed mixes), ``strategies`` (va and the baselines), ``simulate`` (the
experiment), ``report`` (medians, gains, Markdown, plot), ``slideshow`` (videos with
known cuts and labels), ``scenes`` and ``scene_render`` (the generated footage suites:
camera-motion, shot-scale, rare, multi-subject, footage), ``cuts`` (shot detection against
known cuts; ``data/`` holds the hand-marked cuts of the sample media), ``suites`` (suites
by name).
"""

from .datasets import (
    Concept,
    Dataset,
    heldout_mask,
    load_generic,
    load_paper,
    load_workspace,
    save_generic,
)
from .report import markdown, plot, summarise, write_outputs
from .simulate import EvalConfig, run_experiment, run_label
from .suites import SUITES, load_suite, run_slideshow

__all__ = [
    "SUITES",
    "Concept",
    "Dataset",
    "EvalConfig",
    "heldout_mask",
    "load_generic",
    "load_paper",
    "load_suite",
    "load_workspace",
    "markdown",
    "plot",
    "run_experiment",
    "run_label",
    "run_slideshow",
    "save_generic",
    "summarise",
    "write_outputs",
]
