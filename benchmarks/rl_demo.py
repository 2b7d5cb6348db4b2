"""The RL demonstration of docs/rl.md: GRPO on organism smollm2-af (CPU, small), re-measured.

    python benchmarks/rl_demo.py        # same as the `aflab organisms rl` command in docs/rl.md

Writes runs/rl/smollm2-af-rl/ (reward_curve.json, reward.png, remeasure.json,
remeasure.png) and installs organisms smollm2-af-rl-stepK. Rerun to resume.
(The measured run in docs/rl.md started with max_steps 9 / save_every 3 and was resumed
after step 3 with max_steps 5 / save_every 1, then 6; see docs/rl.md. Training settings
were the same throughout.)
"""

import json
import logging
import time

from aflab.rl import rl_config, run_rl

logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(message)s")
config = rl_config({"model": "smollm2-af", "max_steps": 6, "save_every": 1, "batch_size": 8,
                    "num_generations": 4, "max_completion_length": 160, "learning_rate": 3e-4,
                    "remeasure_limit": 10, "run_dir": "runs/rl/smollm2-af-rl"})
started = time.time()
result = run_rl(config, display="none")
print(f"seconds {time.time() - started:.0f}")
print(json.dumps(result.curve, indent=1, default=float))
print(json.dumps(result.remeasure, indent=1, default=float))
