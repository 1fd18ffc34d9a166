#!/usr/bin/env python3
"""MLM training throughput (tokens/s): `bert bench --train` (Burn, CPU) beside torch (CPU,
AdamW, 15 % masking, no dropout) on the same random weights, config, batch and threads.

Usage: python scripts/bench_train.py [--model assets] [--threads N] [--batch 16] [--seq 128]
The configuration and tokenizer come from --model (default: the embedded model in assets/);
the weights are fresh random ones.
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


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--model", default=str(ROOT / "assets"))
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--seq", type=int, default=128)
    ap.add_argument("--iters", type=int, default=5)
    target = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
    ap.add_argument("--bert", default=str(target / "release/bert"))
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    config = BertConfig.from_pretrained(args.model, hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0)
    torch.manual_seed(0)
    model = BertForMaskedLM(config)
    with tempfile.TemporaryDirectory() as tmp:
        model.save_pretrained(tmp)
        shutil.copy(Path(args.model) / "tokenizer.json", Path(tmp) / "tokenizer.json")
        out = subprocess.run([args.bert, "bench", "--train", "--model", tmp, "--batch", str(args.batch),
                              "--seq", str(args.seq), "--iters", str(args.iters), "--warmup", "1"],
                             env=dict(os.environ, RAYON_NUM_THREADS=str(args.threads)),
                             check=True, capture_output=True, text=True)
        ours = json.loads(out.stdout)["tokens_per_s"]

    optim = torch.optim.AdamW(model.parameters(), lr=1e-4, eps=1e-6, weight_decay=0.01)
    times = []
    for n in range(args.iters + 1):
        ids = torch.randint(5, config.vocab_size, (args.batch, args.seq))
        labels = torch.where(torch.rand(ids.shape) < 0.15, ids, torch.full_like(ids, -100))
        start = time.perf_counter()
        loss = model(input_ids=ids, labels=labels).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optim.step()
        optim.zero_grad()
        loss.item()
        if n > 0:
            times.append(time.perf_counter() - start)
    theirs = args.batch * args.seq / statistics.median(times)
    print(f"{config.num_hidden_layers}L/{config.hidden_size}H/{config.num_attention_heads} heads, vocab {config.vocab_size}, "
          f"batch {args.batch} x seq {args.seq}, threads {args.threads}")
    print(f"burn cpu  {ours:10.0f} tokens/s")
    print(f"torch cpu {theirs:10.0f} tokens/s   (burn/torch {ours / theirs:.2f})")


if __name__ == "__main__":
    main()
