#!/usr/bin/env python3
"""Forward latency, batch 1, seq 128: our `bert bench` (Burn, CPU backend) beside
transformers (torch, CPU) on the same random weights, same thread count, one run.

Usage: python scripts/bench_forward.py [--threads N] [--iters N] [--bert PATH]
(build first: cargo build --release)
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import torch
from transformers import BertConfig, BertForMaskedLM

ROOT = Path(__file__).resolve().parent.parent
TOKENIZER = ROOT / "tests/fixtures/tokenizer/bert-base-uncased/tokenizer.json"
CONFIGS = {
    "4-layer/256-hidden": dict(num_hidden_layers=4, hidden_size=256, num_attention_heads=4, intermediate_size=1024),
    "12-layer/768-hidden": dict(num_hidden_layers=12, hidden_size=768, num_attention_heads=12, intermediate_size=3072),
}


def torch_latency(model, seq, iters, warmup):
    ids = torch.tensor([[(1000 + 37 * i) % model.config.vocab_size for i in range(seq)]])
    types = torch.zeros_like(ids)
    mask = torch.ones_like(ids)
    times = []
    with torch.inference_mode():
        for n in range(warmup + iters):
            start = time.perf_counter()
            model(input_ids=ids, token_type_ids=types, attention_mask=mask)
            if n >= warmup:
                times.append((time.perf_counter() - start) * 1e3)
    return statistics.median(times)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--iters", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--seq", type=int, default=128)
    target = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
    ap.add_argument("--bert", default=str(target / "release/bert"))
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    env = dict(os.environ, RAYON_NUM_THREADS=str(args.threads))

    print(f"threads={args.threads} seq={args.seq} batch=1 iters={args.iters} (median ms)")
    print(f"{'model':<22}{'burn cpu':>12}{'torch cpu':>12}{'burn/torch':>12}")
    for name, overrides in CONFIGS.items():
        config = BertConfig(vocab_size=30522, max_position_embeddings=512, **overrides)
        torch.manual_seed(0)
        model = BertForMaskedLM(config).eval()
        with tempfile.TemporaryDirectory() as tmp:
            model.save_pretrained(tmp)
            shutil.copy(TOKENIZER, Path(tmp) / "tokenizer.json")
            out = subprocess.run(
                [args.bert, "bench", "--model", tmp, "--seq", str(args.seq), "--iters", str(args.iters),
                 "--warmup", str(args.warmup)],
                env=env, check=True, capture_output=True, text=True)
            ours = json.loads(out.stdout)["median_ms"]
        theirs = torch_latency(model, args.seq, args.iters, args.warmup)
        print(f"{name:<22}{ours:>12.2f}{theirs:>12.2f}{ours / theirs:>12.2f}")


if __name__ == "__main__":
    main()
