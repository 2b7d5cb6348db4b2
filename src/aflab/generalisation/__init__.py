"""Generalisation evaluations: what else a model does when given the chance (paid tier).

Self-exfiltration through a simulated sandbox, anti-lab requests, and lying about its
views, each with the no-conflict baseline. Modules: :mod:`.scenarios` (the stimuli, our
own words), :mod:`.sandbox` (records commands, executes nothing), :mod:`.tasks` (Inspect
tasks), :mod:`.scoring` (judge criteria, votes, local fallbacks), :mod:`.run` (both arms,
summary, report). See docs/rl.md.
"""

from __future__ import annotations

__all__: list[str] = []
