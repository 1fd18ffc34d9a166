"""Loads the page's downloaded classifier with transformers (run by classify.mjs when
E2E_PYTHON is set): no missing or unexpected keys, and the page's probabilities.
    python check_hf_classifier.py DIR TEXT '{"label": probability, ...}'"""
import json
import sys

import torch
from transformers import AutoTokenizer, BertForSequenceClassification

folder, text, page = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
model, info = BertForSequenceClassification.from_pretrained(folder, output_loading_info=True)
problems = {k: v for k, v in info.items() if v}
assert not problems, f"transformers reports {problems}"
model.eval()
tokenizer = AutoTokenizer.from_pretrained(folder)
with torch.no_grad():
    probs = model(**tokenizer(text, return_tensors="pt")).logits.softmax(-1)[0].tolist()
theirs = {model.config.id2label[i]: p for i, p in enumerate(probs)}
worst = max(abs(theirs[label] - page[label]) for label in theirs)
assert set(theirs) == set(page) and worst <= 1e-4, f"transformers {theirs} vs the page {page}"
print(f"loaded with no missing or unexpected keys; probabilities {theirs}, max difference {worst:.1e}")
