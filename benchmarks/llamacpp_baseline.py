"""llama.cpp (llama-cpp-python) on the same token ids, for side-by-side comparison.

Two ways a researcher would run it: one sequence at a time with the prefix's KV
cache reused (copied to a working sequence, which is cleared after each sample), and
all sequences batched with the prefix decoded once and shared by ``seq_cp``. Greedy.

Needs ``pip install llama-cpp-python`` (it compiles at install time). On CPUs with
AMX, llama.cpp's AMX kernels crashed in this sandbox; build it without them:
``CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_AVX512=ON -DGGML_AVX512_VNNI=ON
-DGGML_AVX512_BF16=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON"``.
"""

from __future__ import annotations

import ctypes
import time
from dataclasses import dataclass

import numpy as np


@dataclass
class LlamaCppRun:
    tokens: list[list[int]]
    seconds: float
    prefill_seconds: float


class LlamaCpp:
    def __init__(self, gguf: str, *, threads: int, n_ctx: int, n_seq: int) -> None:
        import llama_cpp as lib

        self.lib = lib
        lib.llama_backend_init()
        # llama.cpp logs every load and graph to stderr; keep the benchmark's table readable
        self._quiet = lib.llama_log_callback(lambda level, text, data: None)
        lib.llama_log_set(self._quiet, ctypes.c_void_p())
        params = lib.llama_model_default_params()
        self.model = lib.llama_model_load_from_file(gguf.encode(), params)
        if not self.model:
            raise RuntimeError(f"llama.cpp could not load {gguf}")
        ctx = lib.llama_context_default_params()
        ctx.n_ctx, ctx.n_batch, ctx.n_ubatch = n_ctx, 2048, 512
        ctx.n_seq_max, ctx.kv_unified = n_seq, True
        ctx.n_threads = ctx.n_threads_batch = threads
        self.ctx = lib.llama_init_from_model(self.model, ctx)
        self.vocab = lib.llama_model_get_vocab(self.model)
        self.n_vocab = lib.llama_vocab_n_tokens(self.vocab)
        self.memory = lib.llama_get_memory(self.ctx)
        self.batch = lib.llama_batch_init(2048, 0, n_seq)

    def _decode(self, items: list[tuple[int, int, int, bool]]) -> None:
        """Decode (token, position, sequence, want_logits) items, 2048 at a time."""
        lib, batch = self.lib, self.batch
        for start in range(0, len(items), 2048):
            chunk = items[start : start + 2048]
            for i, (token, pos, seq, logits) in enumerate(chunk):
                batch.token[i], batch.pos[i] = token, pos
                batch.n_seq_id[i], batch.seq_id[i][0], batch.logits[i] = 1, seq, logits
            batch.n_tokens = len(chunk)
            if lib.llama_decode(self.ctx, batch) != 0:
                raise RuntimeError("llama_decode failed (context too small?)")

    def _argmax(self, index: int) -> int:
        logits = np.ctypeslib.as_array(self.lib.llama_get_logits_ith(self.ctx, index),
                                       shape=(self.n_vocab,))
        return int(logits.argmax())

    def _eog(self, token: int) -> bool:
        return bool(self.lib.llama_vocab_is_eog(self.vocab, token))

    def _prefix(self, rows: list[list[int]]) -> int:
        p = 0
        while all(len(r) > p + 1 and r[p] == rows[0][p] for r in rows):
            p += 1
        self.lib.llama_memory_clear(self.memory, True)
        self._decode([(t, i, 0, False) for i, t in enumerate(rows[0][:p])])
        return p

    def batched(self, rows: list[list[int]], max_new: int) -> LlamaCppRun:
        lib = self.lib
        start = time.perf_counter()
        p = self._prefix(rows)
        for seq in range(1, len(rows)):
            lib.llama_memory_seq_cp(self.memory, 0, seq, -1, -1)
        items = [(r[j], j, s, j == len(r) - 1) for s, r in enumerate(rows) for j in range(p, len(r))]
        self._decode(items)
        # logits of each row's last token: the index within the last decoded chunk
        last_chunk = items[(len(items) - 1) // 2048 * 2048 :]
        where = {it[2]: i for i, it in enumerate(last_chunk) if it[3]}
        prefill = time.perf_counter() - start
        out: list[list[int]] = [[] for _ in rows]
        pos = [len(r) for r in rows]
        active = list(range(len(rows)))
        while active:
            still = []
            for s in active:
                token = self._argmax(where[s])
                out[s].append(token)
                if not self._eog(token) and len(out[s]) < max_new:
                    still.append(s)
            active = still
            if not active:
                break
            self._decode([(out[s][-1], pos[s], s, True) for s in active])
            for i, s in enumerate(active):
                pos[s] += 1
                where[s] = i
        return LlamaCppRun(out, time.perf_counter() - start, prefill)

    def one_at_a_time(self, rows: list[list[int]], max_new: int) -> LlamaCppRun:
        lib = self.lib
        start = time.perf_counter()
        p = self._prefix(rows)
        prefill = time.perf_counter() - start
        out: list[list[int]] = []
        for r in rows:
            lib.llama_memory_seq_cp(self.memory, 0, 1, -1, -1)
            t0 = time.perf_counter()
            self._decode([(r[j], j, 1, j == len(r) - 1) for j in range(p, len(r))])
            prefill += time.perf_counter() - t0
            index, pos, new = len(r) - p - 1, len(r), []
            while True:
                token = self._argmax(index)
                new.append(token)
                if self._eog(token) or len(new) >= max_new:
                    break
                self._decode([(token, pos, 1, True)])
                pos, index = pos + 1, 0
            lib.llama_memory_seq_rm(self.memory, 1, -1, -1)
            out.append(new)
        return LlamaCppRun(out, time.perf_counter() - start, prefill)
