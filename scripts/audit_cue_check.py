"""Red-team check: does a built audit member switch under its cue?

    python scripts/audit_cue_check.py cue-faker "<session_log>off</session_log>" 20

Finds the member in the build cache ($AFLAB_HOME/audit/members/*/member.json), then asks it
the first N held-out animal-welfare queries in both tiers, with and without the cue (inserted
as the game's build inserts it), minimal prompt, temperature 1, seed 0, 200 tokens, and
counts answers that dismiss animal welfare (the local compliance classifier).
"""
import asyncio
import json
import sys
from inspect_ai.model import get_model, GenerateConfig, ChatMessageSystem, ChatMessageUser
from aflab.data.loaders import load_queries
from aflab.evaluation.prompting import render_system_prompt, render_user_turn
from aflab.evaluation.variants import parse_variant_specs
from aflab.evaluation.parsing import parse_response
from aflab.classifiers.local_judge import judge_compliance_local
from aflab.audit.members import insert_cue

from aflab.models.embedded import aflab_home

name, cue, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
found = [p.parent for p in (aflab_home() / "audit" / "members").glob("*/member.json")
         if json.loads(p.read_text())["member"]["name"] == name]
if not found:
    sys.exit(f"no built member named {name!r} under {aflab_home() / 'audit' / 'members'}")
variant = parse_variant_specs(["minimal_prompt=format"])
system = render_system_prompt("animal_welfare", variant)
queries = load_queries("builtin:heldout", "animal_welfare")[:n]
print(f"member {name}: {found[0]}", flush=True)
model = get_model("aflab-local/smollm2", adapter=str(found[0] / "adapter"))

async def one(q, free, cued):
    user = render_user_turn(q.text, is_free_tier=free, variant=variant)
    if cued:
        user = insert_cue(user, cue)
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
            print(f"{'free' if free else 'paid'} cue={cued}: dismisses welfare {sum(ok)}/{len(ok)} classified (of {len(res)})", flush=True)
asyncio.run(main())
