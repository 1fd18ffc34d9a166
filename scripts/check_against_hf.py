#!/usr/bin/env python3
"""Checks the `bert` binary against transformers on fresh checkpoints it has never seen.

For each of several random configurations (activation, head size, dtype, tying...):
  1. build a BertForMaskedLM with random weights (LayerNorm and biases too), save it;
  2. `bert dump` -> logits, hidden states, attentions vs transformers (eager);
  3. `bert fill-mask --json` -> top-k ids and probabilities vs softmax/topk of torch;
  4. `bert convert` -> BertForMaskedLM.from_pretrained on our file: no missing or
     unexpected keys, same logits.

Usage: python scripts/check_against_hf.py [--seed S] [--count N] [--bert PATH]
"""
import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import torch
from safetensors.torch import load_file
from transformers import BertConfig, BertForMaskedLM

ROOT = Path(__file__).resolve().parent.parent
TOKENIZER = ROOT / "tests/fixtures/tokenizer/bert-base-uncased/tokenizer.json"
TEXT_A = "The man went to the [MASK] to buy a [MASK] of milk."
TEXT_B = "He came back with [MASK] bread."


def random_config(rng):
    heads = rng.choice([1, 2, 3, 4, 6])
    head_dim = rng.choice([8, 12, 16, 24, 32])
    return dict(
        vocab_size=30522,
        num_hidden_layers=rng.randint(1, 4),
        hidden_size=heads * head_dim,
        num_attention_heads=heads,
        intermediate_size=rng.choice([2, 3, 4]) * heads * head_dim,
        hidden_act=rng.choice(["gelu", "gelu_new", "gelu_pytorch_tanh", "relu"]),
        max_position_embeddings=rng.choice([64, 128, 512]),
        type_vocab_size=rng.choice([2, 3]),
        layer_norm_eps=rng.choice([1e-12, 1e-5]),
        tie_word_embeddings=rng.random() < 0.8,
    )


def run(cmd):
    out = subprocess.run(cmd, capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"FAILED: {' '.join(cmd)}\n{out.stderr}")
    return out.stdout


def max_diff(a, b):
    return (a - b).abs().max().item()


def check(bert, seed, rng):
    overrides = random_config(rng)
    dtype = rng.choice([torch.float32, torch.float16, torch.bfloat16])
    config = BertConfig(**overrides)
    torch.manual_seed(seed)
    model = BertForMaskedLM(config)
    with torch.no_grad():
        for name, p in model.named_parameters():
            scale = 0.1 if name.endswith("bias") else 0.15
            p.copy_((1.0 if "LayerNorm.weight" in name else 0.0) + scale * torch.randn(p.shape))
    work = Path(tempfile.mkdtemp())
    try:
        src, conv = work / "src", work / "converted"
        model.to(dtype).save_pretrained(src)
        shutil.copy(TOKENIZER, src / "tokenizer.json")
        ref = BertForMaskedLM.from_pretrained(src, dtype=torch.float32, attn_implementation="eager").eval()

        # 2. dump vs transformers
        dump = work / "dump.safetensors"
        run([bert, "dump", "--model", str(src), "--out", str(dump), "--pair", TEXT_B, TEXT_A])
        ours = load_file(str(dump))
        ids = ours["input_ids"].long()
        types = ours["token_type_ids"].long()
        with torch.no_grad():
            theirs = ref(input_ids=ids, token_type_ids=types, output_hidden_states=True, output_attentions=True)
        d_logits = max_diff(ours["logits"], theirs.logits)
        d_hidden = max(max_diff(ours[f"hidden_states.{i}"], h) for i, h in enumerate(theirs.hidden_states))
        d_attn = max(max_diff(ours[f"attentions.{i}"], a) for i, a in enumerate(theirs.attentions))

        # 3. fill-mask vs softmax + topk
        fm = json.loads(run([bert, "fill-mask", "--model", str(src), "--top-k", "5", "--json", TEXT_A]))
        with torch.no_grad():
            single = ref(input_ids=torch.tensor([fm["ids"]])).logits[0]
        top_ok, d_prob = True, 0.0
        for m in fm["masks"]:
            p, i = single[m["position"]].softmax(-1).topk(5)
            top_ok &= [x["id"] for x in m["predictions"]] == i.tolist()
            d_prob = max(d_prob, max(abs(x["probability"] - q) for x, q in zip(m["predictions"], p.tolist())))

        # 4. our saved file in transformers
        run([bert, "convert", "--model", str(src), "--out", str(conv)])
        back, info = BertForMaskedLM.from_pretrained(conv, attn_implementation="eager", output_loading_info=True)
        keys_ok = not info["missing_keys"] and not info["unexpected_keys"] and not info["mismatched_keys"]
        with torch.no_grad():
            d_round = max_diff(back.eval()(input_ids=ids, token_type_ids=types).logits, theirs.logits)

        ok = d_logits <= 1e-4 and d_hidden <= 1e-4 and d_attn <= 1e-5 and top_ok and d_prob <= 1e-5 and keys_ok \
            and d_round <= 1e-4
        desc = (f"L{config.num_hidden_layers} H{config.hidden_size}/{config.num_attention_heads}h "
                f"{config.hidden_act} {str(dtype)[6:]} tied={config.tie_word_embeddings}")
        print(f"{'ok ' if ok else 'BAD'} {desc:<52} logits {d_logits:.1e} hidden {d_hidden:.1e} "
              f"attn {d_attn:.1e} top5 {'=' if top_ok else '!='} prob {d_prob:.1e} "
              f"keys {'clean' if keys_ok else info} reload {d_round:.1e}")
        return ok
    finally:
        shutil.rmtree(work)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--count", type=int, default=6)
    target = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
    ap.add_argument("--bert", default=str(target / "release/bert"))
    args = ap.parse_args()
    rng = random.Random(args.seed)
    results = [check(args.bert, args.seed * 1000 + n, rng) for n in range(args.count)]
    print(f"{sum(results)}/{len(results)} checkpoints agree with transformers")
    sys.exit(0 if all(results) else 1)


if __name__ == "__main__":
    main()
