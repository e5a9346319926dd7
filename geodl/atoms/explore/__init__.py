"""geodl.atoms.explore — reference labels for many frames, and active learning.

* :func:`label_structures` — label frames with a reference calculator (parallel,
  resumable, failures recorded): ``geodl label``;
* :func:`explore` — the active-learning loop: a committee of models, MD with their mean,
  the frames where they disagree picked and labelled, until the committee stops
  improving: ``geodl explore``;
* its parts: :class:`Committee` / :class:`CommitteeCalculator` (mean model and force
  deviation), :func:`explore_md` (MD that survives blow-ups), :func:`trust_window`,
  :func:`candidate_pool`, :func:`structure_fingerprints` and
  :func:`farthest_point_sampling` (the pick),
  :func:`converged` (the stopping rule), :class:`ExploreConfig` (``explore.*`` keys).
"""

from geodl.atoms.explore._committee import Committee, CommitteeCalculator, force_deviation
from geodl.atoms.explore._config import (
    STARTS,
    ExploreConfig,
    ExploreRunConfig,
    load_explore_config,
)
from geodl.atoms.explore._dynamics import Trajectory, default_timestep, explore_md, swap_species
from geodl.atoms.explore._label import (
    LabelFailure,
    LabelReport,
    input_frames,
    label_frame,
    label_structures,
)
from geodl.atoms.explore._loop import ExploreResult, converged, explore
from geodl.atoms.explore._select import (
    candidate_pool,
    classify,
    farthest_point_sampling,
    structure_fingerprints,
    trust_window,
)

__all__ = [
    "STARTS",
    "Committee",
    "CommitteeCalculator",
    "ExploreConfig",
    "ExploreResult",
    "ExploreRunConfig",
    "LabelFailure",
    "LabelReport",
    "input_frames",
    "Trajectory",
    "candidate_pool",
    "classify",
    "converged",
    "default_timestep",
    "explore",
    "explore_md",
    "farthest_point_sampling",
    "force_deviation",
    "label_frame",
    "label_structures",
    "load_explore_config",
    "structure_fingerprints",
    "swap_species",
    "trust_window",
]
