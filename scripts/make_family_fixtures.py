#!/usr/bin/env python3
"""Fixtures for the BERT family beyond `bert`: one small checkpoint per family, made by
transformers itself with random weights (LayerNorms and biases too), each with its own kind
of tokenizer, and transformers' logits, hidden states and attentions for a few cases.

* models/family-<name>: `<Family>ForMaskedLM.save_pretrained` + the tokenizer's
  `save_pretrained` (tokenizer.json as the Hub ships it).
* golden/family-<name>.safetensors and the `family-<name>` entries of golden/cases.json,
  in the format of make_fixtures.py (padded with the tokenizer's own pad id).

Tokenizers, trained on ../shared/corpus with the `tokenizers` trainers or sentencepiece:
byte-level BPE (RoBERTa), SentencePiece Unigram converted by transformers with its
`Precompiled` normalizer (XLM-RoBERTa, CamemBERT), Unigram (ALBERT), WordPiece
(DistilBERT, ELECTRA).

Run: pip install -r scripts/requirements.txt sentencepiece protobuf &&
     python scripts/make_family_fixtures.py
"""
import json
import shutil
import tempfile
from pathlib import Path

import sentencepiece as spm
import torch
from safetensors.torch import load_file, save_file
from tokenizers import AddedToken, Tokenizer, BertWordPieceTokenizer, ByteLevelBPETokenizer, SentencePieceUnigramTokenizer
import transformers as tf

ROOT = Path(__file__).resolve().parent.parent / "tests" / "fixtures"
CORPUS = ROOT.parent.parent.parent / "shared" / "corpus" / "valid.txt"

MASKED_TEXTS = [
    ("The quick brown {m} jumps over the lazy dog.", None),
    ("Where is the {m}?", "It is in the {m} house."),
    ("{m} people have {m} many times, said the old man.", None),
]
BATCH_TEXTS = ["A short {m} text.", "This is a much longer sentence, with {m} more words in it than the other one."]

SMALL = dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=48,
             max_position_embeddings=40)


def corpus_lines(n=4000):
    lines = []
    with open(CORPUS, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                lines.append(line.strip())
            if len(lines) >= n:
                break
    return lines


def bpe_tokenizer(lines):
    bpe = ByteLevelBPETokenizer()
    bpe.train_from_iterator(lines, vocab_size=500, special_tokens=["<s>", "<pad>", "</s>", "<unk>", "<mask>"],
                            show_progress=False)
    model = json.loads(bpe.to_str())["model"]
    # As roberta-base ships it: `<mask>` strips the space before it.
    return tf.RobertaTokenizerFast(vocab=model["vocab"], merges=[tuple(m) for m in model["merges"]],
                                   mask_token=AddedToken("<mask>", lstrip=True, rstrip=False))


def spm_tokenizer(lines, cls, file_name):
    """A real SentencePiece model (nmt_nfkc normalisation), converted by transformers as the
    Hub's XLM-R and CamemBERT tokenizer.json files were: Precompiled normaliser, Metaspace."""
    with tempfile.TemporaryDirectory() as tmp:
        text = Path(tmp) / "corpus.txt"
        text.write_text("\n".join(lines))
        spm.SentencePieceTrainer.train(input=str(text), model_prefix=f"{tmp}/sp", vocab_size=600,
                                       model_type="unigram", normalization_rule_name="nmt_nfkc",
                                       character_coverage=1.0, bos_id=0, pad_id=1, eos_id=2, unk_id=3,
                                       minloglevel=2)
        shutil.copy(f"{tmp}/sp.model", f"{tmp}/{file_name}")
        return cls.from_pretrained(tmp, mask_token=AddedToken("<mask>", lstrip=True, rstrip=False))


def unigram_tokenizer(lines):
    uni = SentencePieceUnigramTokenizer()
    uni.train_from_iterator([l.lower() for l in lines], vocab_size=500,
                            special_tokens=["<pad>", "<unk>", "[CLS]", "[SEP]", "[MASK]"], unk_token="<unk>",
                            show_progress=False)
    vocab = [tuple(v) for v in json.loads(uni.to_str())["model"]["vocab"]]
    return tf.AlbertTokenizerFast(vocab=vocab, mask_token=AddedToken("[MASK]", lstrip=True, rstrip=False))


def wordpiece_tokenizer(lines, cls):
    wp = BertWordPieceTokenizer(lowercase=True)
    wp.train_from_iterator(lines, vocab_size=600, special_tokens=["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"],
                           show_progress=False)
    return cls(vocab=json.loads(wp.to_str())["model"]["vocab"], do_lower_case=True)


def randomise(model, seed):
    """Random weights everywhere, at scales that keep attention away from uniform."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            low = name.lower()
            if ("norm" in low) and name.endswith("weight"):
                p.copy_(1.0 + 0.2 * torch.randn(p.shape, generator=g))
            elif name.endswith("bias"):
                p.copy_(0.1 * torch.randn(p.shape, generator=g))
            else:
                p.copy_(0.15 * torch.randn(p.shape, generator=g))


FAMILIES = {
    # name: (config class, model class, tokenizer maker, config overrides)
    "roberta": (tf.RobertaConfig, tf.RobertaForMaskedLM, bpe_tokenizer,
                dict(type_vocab_size=1, pad_token_id=1, bos_token_id=0, eos_token_id=2, hidden_act="gelu",
                     layer_norm_eps=1e-5)),
    "xlm-roberta": (tf.XLMRobertaConfig, tf.XLMRobertaForMaskedLM,
                    lambda lines: spm_tokenizer(lines, tf.XLMRobertaTokenizerFast, "sentencepiece.bpe.model"),
                    dict(type_vocab_size=1, pad_token_id=1, bos_token_id=0, eos_token_id=2, layer_norm_eps=1e-5,
                         hidden_act="gelu_new")),
    "camembert": (tf.CamembertConfig, tf.CamembertForMaskedLM,
                  lambda lines: spm_tokenizer(lines, tf.CamembertTokenizerFast, "sentencepiece.bpe.model"),
                  dict(type_vocab_size=1, pad_token_id=1, bos_token_id=5, eos_token_id=6, layer_norm_eps=1e-5)),
    "distilbert": (tf.DistilBertConfig, tf.DistilBertForMaskedLM,
                   lambda lines: wordpiece_tokenizer(lines, tf.DistilBertTokenizerFast),
                   dict(dim=32, n_layers=2, n_heads=4, hidden_dim=48, max_position_embeddings=40,
                        sinusoidal_pos_embds=True, activation="gelu")),
    "albert": (tf.AlbertConfig, tf.AlbertForMaskedLM, unigram_tokenizer,
               dict(embedding_size=16, num_hidden_layers=4, num_hidden_groups=2, inner_group_num=2,
                    hidden_act="gelu_new", pad_token_id=0)),
    "electra": (tf.ElectraConfig, tf.ElectraForMaskedLM,
                lambda lines: wordpiece_tokenizer(lines, tf.ElectraTokenizerFast),
                dict(embedding_size=16, hidden_act="gelu")),
}


def golden_for(model, tok, config):
    """transformers' outputs for each case, padded with the tokenizer's own pad id."""
    cases, tensors = [], {}
    m = tok.mask_token

    # The token types tokenizer.json gives (transformers 5's ALBERT tokenizer class stopped
    # returning them, but the model was trained with them and takes them).
    backend = Tokenizer.from_str(tok.backend_tokenizer.to_str())
    backend.no_padding()
    backend.no_truncation()

    def run(name, rows):
        encs = [backend.encode(a, b) if b is not None else backend.encode(a) for a, b in rows]
        for e, (a, b) in zip(encs, rows):
            assert e.ids == (tok(a, b) if b is not None else tok(a))["input_ids"], "tokenizers ≠ transformers"
        width = max(len(e.ids) for e in encs)
        pad = lambda xs, v: [x + [v] * (width - len(x)) for x in xs]
        ids = torch.tensor(pad([e.ids for e in encs], tok.pad_token_id))
        types = torch.tensor(pad([e.type_ids for e in encs], 0))
        mask = torch.tensor(pad([[1] * len(e.ids) for e in encs], 0))
        kwargs = dict(input_ids=ids, attention_mask=mask, output_hidden_states=True, output_attentions=True)
        if config.model_type != "distilbert":
            kwargs["token_type_ids"] = types
        with torch.no_grad():
            out = model(**kwargs)
        tensors[f"{name}.input_ids"] = ids.float()
        tensors[f"{name}.token_type_ids"] = types.float()
        tensors[f"{name}.attention_mask"] = mask.float()
        tensors[f"{name}.logits"] = out.logits.contiguous()
        for i, h in enumerate(out.hidden_states):
            tensors[f"{name}.hidden_states.{i}"] = h.contiguous()
        for i, a in enumerate(out.attentions):
            tensors[f"{name}.attentions.{i}"] = a.contiguous()
        top = []
        for b in range(ids.shape[0]):
            for t in range(ids.shape[1]):
                if ids[b, t] == tok.mask_token_id and mask[b, t] == 1:
                    p, i = out.logits[b, t].softmax(-1).topk(5)
                    top.append({"batch": b, "position": t, "ids": i.tolist(), "probs": p.tolist()})
        return top

    for n, (a, b) in enumerate(MASKED_TEXTS):
        row = (a.format(m=m), b.format(m=m) if b else None)
        cases.append({"name": f"case{n}", "texts": [list(row)], "top5": run(f"case{n}", [row])})
    rows = [(t.format(m=m), None) for t in BATCH_TEXTS]
    cases.append({"name": "batch", "texts": [list(r) for r in rows], "top5": run("batch", rows)})
    return cases, tensors


TRAIN = dict(lr=1e-3, betas=(0.9, 0.999), eps=1e-6, weight_decay=0.1, max_grad_norm=1.0)


def train_step(model, tok, seed):
    """One AdamW step of torch, as make_fixtures.py's for BERT: BERT's no-decay group (every
    bias and every LayerNorm weight, whatever the family calls them), global gradient-norm
    clipping, loss on the masked positions only. Deterministic: eval mode, no dropout."""
    model.eval()
    g = torch.Generator().manual_seed(seed)
    vocab = model.config.vocab_size
    specials = set(tok.all_special_ids)
    regular = [i for i in range(vocab) if i not in specials]
    lengths = [12, 9]
    ids = torch.full((2, 12), tok.pad_token_id, dtype=torch.long)
    labels = torch.full((2, 12), -100, dtype=torch.long)
    mask = torch.zeros(2, 12, dtype=torch.long)
    for b, n in enumerate(lengths):
        pick = torch.randint(0, len(regular), (n,), generator=g)
        seq = torch.tensor([regular[i] for i in pick])
        seq[0], seq[n - 1] = tok.cls_token_id, tok.sep_token_id
        ids[b, :n] = seq
        mask[b, :n] = 1
        for t, how in [(2, "mask"), (5, "random"), (n - 2, "keep")]:
            labels[b, t] = ids[b, t]
            if how == "mask":
                ids[b, t] = tok.mask_token_id
            elif how == "random":
                ids[b, t] = regular[torch.randint(0, len(regular), (1,), generator=g).item()]
    norms = {f"{m}.weight" for m, mod in model.named_modules() if isinstance(mod, torch.nn.LayerNorm)}
    no_decay_names = [n for n, _ in model.named_parameters() if n.endswith("bias") or n in norms]
    params = dict(model.named_parameters())
    optim = torch.optim.AdamW([
        {"params": [p for n, p in params.items() if n not in no_decay_names], "weight_decay": TRAIN["weight_decay"]},
        {"params": [params[n] for n in no_decay_names], "weight_decay": 0.0}],
        lr=TRAIN["lr"], betas=TRAIN["betas"], eps=TRAIN["eps"])
    kwargs = dict(input_ids=ids, attention_mask=mask, labels=labels)
    if model.config.model_type != "distilbert":
        kwargs["token_type_ids"] = torch.zeros_like(ids)
    out = {"ids": ids.float(), "attention_mask": mask.float(), "labels": labels.float()}
    loss = model(**kwargs).loss
    loss.backward()
    out["loss_before"] = loss.detach().reshape(1)
    norm = torch.nn.utils.clip_grad_norm_(model.parameters(), TRAIN["max_grad_norm"])
    out["grad_norm"] = norm.reshape(1)
    optim.step()
    # Every name a parameter goes by (tied ones under each), as the checkpoint names them.
    for n, p in model.state_dict().items():
        if p.is_floating_point():
            out[f"param.{n}"] = p.detach().clone()
    with torch.no_grad():
        out["loss_after"] = model(**kwargs).loss.reshape(1)
    assert norm > TRAIN["max_grad_norm"], "the fixture must exercise clipping"
    return {k: v.contiguous().float() for k, v in out.items()}


def main():
    lines = corpus_lines()
    summary_path = ROOT / "golden/cases.json"
    summary = json.loads(summary_path.read_text())
    for seed, (name, (config_cls, model_cls, make_tok, overrides)) in enumerate(FAMILIES.items()):
        tok = make_tok(lines)
        out = ROOT / "models" / f"family-{name}"
        if out.exists():
            shutil.rmtree(out)
        out.mkdir(parents=True)
        tok.save_pretrained(str(out))
        for extra in ["special_tokens_map.json", "vocab.txt", "sentencepiece.bpe.model", "spiece.model",
                      "merges.txt", "vocab.json"]:
            (out / extra).unlink(missing_ok=True)
        settings = {**SMALL, **overrides} if name != "distilbert" else overrides
        if name in ("roberta", "xlm-roberta", "camembert"):
            # Positions start after padding_idx: room for the longest text plus the offset.
            settings["max_position_embeddings"] = SMALL["max_position_embeddings"] + 2
        config = config_cls(vocab_size=len(tok), **settings)
        torch.manual_seed(1000 + seed)
        model = model_cls(config)
        randomise(model, 1000 + seed)
        model.save_pretrained(str(out))
        ref, info = model_cls.from_pretrained(str(out), dtype=torch.float32, attn_implementation="eager",
                                              output_loading_info=True)
        assert not info["missing_keys"] and not info["unexpected_keys"], info
        ref.eval()
        cases, tensors = golden_for(ref, tok, config)
        tensors.update({f"train.{k}": v for k, v in train_step(ref, tok, 2000 + seed).items()})
        save_file(tensors, str(ROOT / "golden" / f"family-{name}.safetensors"))
        summary[f"family-{name}"] = cases
        summary[f"family-{name}#hf_keys"] = sorted(load_file(str(out / "model.safetensors")).keys())
        print(name, len(tok), "tokens;", len(cases), "cases; hidden states",
              sum(1 for k in tensors if k.startswith("case0.hidden")), "attentions",
              sum(1 for k in tensors if k.startswith("case0.attentions")))
    summary_path.write_text(json.dumps(summary, indent=1))


TASK_TEXTS = [
    ("The old man walked to the harbour.", None),
    ("Where is the station?", "It is round the corner."),
    ("A much longer sentence, so that the batch is padded on the other texts.", None),
]
TOKEN_LABELS = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC"]
TOKEN_CLASSIFIERS = {
    "roberta": tf.RobertaForTokenClassification,
    "distilbert": tf.DistilBertForTokenClassification,
    "albert": tf.AlbertForTokenClassification,
}


def make_token_classifiers():
    """models/family-<name>-tok: `<Family>ForTokenClassification` as transformers saves it
    (5 BIO labels), on the MLM fixture's config and tokenizer, random weights; golden: its
    logits for TASK_TEXTS as one padded batch (padded with the tokenizer's pad id)."""
    for seed, (name, cls) in enumerate(TOKEN_CLASSIFIERS.items()):
        base = ROOT / "models" / f"family-{name}"
        config = tf.AutoConfig.from_pretrained(str(base))
        config.id2label = dict(enumerate(TOKEN_LABELS))
        config.label2id = {l: i for i, l in enumerate(TOKEN_LABELS)}
        config.architectures = [cls.__name__]
        torch.manual_seed(3000 + seed)
        model = cls(config)
        randomise(model, 3000 + seed)
        out = ROOT / "models" / f"family-{name}-tok"
        if out.exists():
            shutil.rmtree(out)
        model.save_pretrained(str(out))
        for f in ["tokenizer.json", "tokenizer_config.json"]:
            shutil.copy(base / f, out / f)
        ref = cls.from_pretrained(str(out), attn_implementation="eager").eval()
        backend = Tokenizer.from_file(str(out / "tokenizer.json"))
        backend.no_padding()
        backend.no_truncation()
        encs = [backend.encode(a, b) if b else backend.encode(a) for a, b in TASK_TEXTS]
        width = max(len(e.ids) for e in encs)
        pad_id = tf.AutoTokenizer.from_pretrained(str(out)).pad_token_id
        pad = lambda xs, v: [x + [v] * (width - len(x)) for x in xs]
        ids = torch.tensor(pad([e.ids for e in encs], pad_id))
        types = torch.tensor(pad([e.type_ids for e in encs], 0))
        mask = torch.tensor(pad([[1] * len(e.ids) for e in encs], 0))
        kwargs = dict(input_ids=ids, attention_mask=mask)
        if name != "distilbert":
            kwargs["token_type_ids"] = types
        with torch.no_grad():
            logits = ref(**kwargs).logits
        save_file({"input_ids": ids.float(), "token_type_ids": types.float(), "attention_mask": mask.float(),
                   "logits": logits.contiguous()}, str(ROOT / "golden" / f"family-{name}-tok.safetensors"))
        print(f"family-{name}-tok: logits {tuple(logits.shape)}")


if __name__ == "__main__":
    import sys
    if sys.argv[1:] == ["tasks"]:
        make_token_classifiers()
        sys.exit(0)
    main()
    make_token_classifiers()
