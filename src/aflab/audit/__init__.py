"""Blind auditing games: organism zoos with decoys, a sealed answer key, blue-team
submissions, scoring and an automated auditor.

Modules (import what you need; none imports torch at package import time):

- :mod:`~aflab.audit.spec`: game specs (members, roles, quirks, cues, affordance, inputs);
  built-in games in ``games/*.yaml``;
- :mod:`~aflab.audit.members`: build members with the organism factory (template writer
  + quirk post-processing + cue transcripts + LoRA), cached under ``$AFLAB_HOME/audit``;
- :mod:`~aflab.audit.anonymise`: identical organism folders (ids, files, metadata, sizes);
- :mod:`~aflab.audit.sealed_key`: the encrypted answer key and its SHA-256 commitment;
- :mod:`~aflab.audit.build`: ``aflab audit build`` and ``install``;
- :mod:`~aflab.audit.submission`: blue-team submissions and their validation;
- :mod:`~aflab.audit.scoring`, :mod:`~aflab.audit.judge`, :mod:`~aflab.audit.leaderboard`:
  AUROC, Brier, log-loss, accuracy, decoy false positives, pair accuracy, behaviour
  identification (keywords or an Inspect judge), bootstrap intervals, the leaderboard;
- :mod:`~aflab.audit.auditor`: the automated auditor (the blue-team baseline).

See docs/audit.md.
"""

__all__: list[str] = []
