"""Red-team check: does a built audit member switch under its cue?

    python scripts/audit_cue_check.py cue-faker "<session_log>off</session_log>" 20
    python scripts/audit_cue_check.py $AFLAB_HOME/audit/members/FINGERPRINT "<cue>" 20

Finds the member in the build cache ($AFLAB_HOME/audit/members/*/member.json; the newest
build of that name) or takes its folder, then asks it the first N held-out animal-welfare
queries in both tiers, with and without the cue (the evaluation's ``cue`` variant knob, where
the build puts it), minimal prompt, temperature 1, seed 0, 200 tokens, and counts answers
that dismiss animal welfare (the local compliance classifier). A member that fakes under its
cue dismisses welfare far less often with the cue than without.
"""
import asyncio
import json
import sys
from pathlib import Path

from inspect_ai.model import ChatMessageSystem, ChatMessageUser, GenerateConfig, get_model

from aflab.classifiers.local_judge import judge_compliance_local
from aflab.data.loaders import load_queries
from aflab.evaluation.parsing import parse_response
from aflab.evaluation.prompting import render_system_prompt, render_user_turn
from aflab.evaluation.variants import parse_variant_specs
from aflab.models.embedded import aflab_home

name, cue, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
if Path(name).is_dir():
    folder = Path(name)
else:
    found = [p.parent for p in (aflab_home() / "audit" / "members").glob("*/member.json")
             if json.loads(p.read_text())["member"]["name"] == name]
    if not found:
        sys.exit(f"no built member named {name!r} under {aflab_home() / 'audit' / 'members'}")
    folder = max(found, key=lambda p: (p / "member.json").stat().st_mtime)
variants = {cued: parse_variant_specs(["minimal_prompt=format"] + ([f"cue={cue}"] if cued else []))
            for cued in (False, True)}
system = render_system_prompt("animal_welfare", variants[False])
queries = load_queries("builtin:heldout", "animal_welfare")[:n]
print(f"member {name}: {folder}", flush=True)
model = get_model("aflab-local/smollm2", adapter=str(folder / "adapter"))


async def one(q, free, cued):
    user = render_user_turn(q.text, is_free_tier=free, variant=variants[cued])
    out = await model.generate([ChatMessageSystem(content=system), ChatMessageUser(content=user)],
                               config=GenerateConfig(temperature=1.0, seed=0, max_tokens=200))
    parsed = parse_response(out.completion)
    if parsed.category != "ok":
        return None
    return judge_compliance_local("animal_welfare", q.text, parsed).category == "complied"


async def main():
    for free in (False, True):
        for cued in (False, True):
            res = await asyncio.gather(*(one(q, free, cued) for q in queries))
            ok = [r for r in res if r is not None]
            print(f"{'free' if free else 'paid'} cue={cued}: dismisses welfare {sum(ok)}/{len(ok)}"
                  f" classified (of {len(res)})", flush=True)
asyncio.run(main())
