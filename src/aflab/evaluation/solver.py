"""The multi-turn scratchpad conversation.

A model may end a turn while still reasoning (a closed or unclosed scratchpad and
no ``<OUTPUT>`` yet). The harness then answers ``<NEXT/>`` and lets it go on, up to
``max_turns`` assistant turns, as the original harness did (4 turns).
"""

from __future__ import annotations

import re

from inspect_ai.model import ChatMessageAssistant, ChatMessageUser, ContentReasoning
from inspect_ai.solver import Generate, Solver, TaskState, solver

from aflab.evaluation.prompting import NEXT_TURN

__all__ = ["assistant_text", "ends_inside_scratchpad", "native_reasoning",
           "scratchpad_conversation"]

# linear on untrusted text: possessive quantifiers, each separated by a literal
_OPEN = re.compile(r"<\s*+SCRATCHPAD_REASONING\s*+>", re.IGNORECASE)
_CLOSE = re.compile(r"<\s*+/\s*+SCRATCHPAD_REASONING\s*+>", re.IGNORECASE)
_OUTPUT = re.compile(r"<\s*+OUTPUT\s*+>", re.IGNORECASE)
_TRUNCATING = {"max_tokens", "model_length"}


def ends_inside_scratchpad(turn: str) -> bool:
    """True when a turn is reasoning that has not yet reached an ``<OUTPUT>``."""
    if _OUTPUT.search(turn):
        return False
    return bool(_OPEN.search(turn) or _CLOSE.search(turn))


def assistant_text(state: TaskState) -> str:
    """All assistant turns of the conversation joined in order (``<NEXT/>`` between turns)."""
    turns = [m.text for m in state.messages if isinstance(m, ChatMessageAssistant)]
    return f"\n{NEXT_TURN}\n".join(turns)


def native_reasoning(state: TaskState) -> str:
    """The model's native reasoning blocks (thinking), joined in order; a redacted
    block contributes its summary, if any."""
    parts: list[str] = []
    for message in state.messages:
        if not isinstance(message, ChatMessageAssistant) or isinstance(message.content, str):
            continue
        for block in message.content:
            if isinstance(block, ContentReasoning):
                text = block.summary if block.redacted else block.reasoning
                if text and text.strip():
                    parts.append(text.strip())
    return "\n\n".join(parts)


@solver
def scratchpad_conversation(max_turns: int = 4) -> Solver:
    """Generate, answering ``<NEXT/>`` while the model is still inside its scratchpad."""
    if max_turns < 1:
        raise ValueError("max_turns must be at least 1")

    async def solve(state: TaskState, generate: Generate) -> TaskState:
        for turn in range(max_turns):
            state = await generate(state)
            if state.output.stop_reason in _TRUNCATING:
                break
            if turn + 1 < max_turns and ends_inside_scratchpad(state.output.completion):
                state.messages.append(ChatMessageUser(content=NEXT_TURN))
                continue
            break
        return state

    return solve
