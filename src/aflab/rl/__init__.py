"""RL toward the training objective with the scratchpad hidden from the reward.

    from aflab.rl import rl_config, run_rl
    result = run_rl(rl_config({"model": "smollm2-af", "max_steps": 12, "save_every": 4}))

Modules: :mod:`.config` (the run's settings, the CLI flags, TRL's GRPOConfig),
:mod:`.rewards` (scratchpad masking and reward sources), :mod:`.prompts` (training-tier
prompts), :mod:`.trainer` (GRPO + PEFT, resume), :mod:`.checkpoints` (checkpoints as
organisms), :mod:`.remeasure` (evaluation of each checkpoint, the figure),
:mod:`.curve` (the reward curve with intervals). See docs/rl.md.
"""

from __future__ import annotations

from aflab.rl.config import RLConfig, grpo_args, rl_config
from aflab.rl.rewards import Visible, build_reward, mask_scratchpad

__all__ = ["RLConfig", "Visible", "build_reward", "grpo_args", "mask_scratchpad", "rl_config",
           "run_rl", "train_rl"]


def __getattr__(name: str):  # the trainer imports torch/TRL: load it on use
    if name in ("run_rl", "train_rl"):
        from aflab.rl import trainer

        return getattr(trainer, name)
    raise AttributeError(name)
