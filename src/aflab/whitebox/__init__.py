"""White-box detection: activations, probes, directions, steering and noise injection.

Modules (import what you need; none imports torch at package import time):

- :mod:`~aflab.whitebox.sites`: canonical site names (``blocks.{L}.resid_post``) mapped
  once per architecture;
- :mod:`~aflab.whitebox.samples`: what activations are read from (evaluation samples,
  transcripts in logs, label files, contrast pairs, ordinary-chat control set);
- :mod:`~aflab.whitebox.activations` / :mod:`~aflab.whitebox.store`: capture with torch
  hooks, streamed to safetensors shards keyed by sample id and epoch, and read back;
- :mod:`~aflab.whitebox.metrics` / :mod:`~aflab.whitebox.probes`: AUROC with group
  bootstrap intervals, the threshold at 1% FPR on a control set, group splits; the
  per-layer probe sweep with its textual-leakage controls;
- :mod:`~aflab.whitebox.directions`: difference-in-means and probe-weight directions;
- :mod:`~aflab.whitebox.steering` / :mod:`~aflab.whitebox.steer_sweep`: steering hooks
  and the layer x coefficient sweep against random directions;
- :mod:`~aflab.whitebox.noise` / :mod:`~aflab.whitebox.noise_sweep`: weight and
  activation noise (restored exactly), improvement ratio and the decision rule;
- :mod:`~aflab.whitebox.behaviour`: aflab's evaluation under an intervention;
- :mod:`~aflab.whitebox.jobs`, :mod:`~aflab.whitebox.rundir`,
  :mod:`~aflab.whitebox.report`: run directories, JSON, figures and HTML.

See docs/whitebox.md.
"""

__all__: list[str] = []
