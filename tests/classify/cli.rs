//! `bert finetune-classifier` and `bert classify` end to end, checked against transformers' layout.

use super::*;

/// A small sentiment task in the embedded model's 19th-century English.
fn sentiment_examples(n: usize, offset: usize) -> String {
    let good = [
        "wonderful",
        "lovely",
        "delightful",
        "charming",
        "pleasant",
        "happy",
    ];
    let bad = [
        "dreadful",
        "terrible",
        "miserable",
        "horrible",
        "wretched",
        "sad",
    ];
    let nouns = [
        "day", "book", "evening", "journey", "house", "dinner", "letter",
    ];
    let forms = [
        "it was a {} {}.",
        "what a {} {} that was!",
        "we had a {} {} together.",
    ];
    (offset..offset + n)
        .map(|i| {
            let (label, words) = if i % 2 == 0 {
                ("positive", &good)
            } else {
                ("negative", &bad)
            };
            let sentence = forms[i % 3]
                .replacen("{}", words[(i / 2) % words.len()], 1)
                .replacen("{}", nouns[(i * 5) % nouns.len()], 1);
            format!("{label}\t{sentence}\n")
        })
        .collect()
}

#[derive(serde::Deserialize)]
struct TrainedJson {
    labels: Vec<String>,
    accuracy: f64,
    held_out: usize,
}

#[derive(serde::Deserialize)]
struct SequenceJson {
    task: String,
    logits: Vec<f32>,
    predictions: Vec<bert_burn::inference::LabelScore>,
}

#[test]
fn the_cli_fine_tunes_a_classifier_that_transformers_layout_loads() {
    let dir = std::env::temp_dir().join(format!("bert-classify-cli-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let (train, eval, out) = (dir.join("train.tsv"), dir.join("eval.tsv"), dir.join("out"));
    std::fs::write(&train, sentiment_examples(40, 0)).unwrap();
    std::fs::write(&eval, sentiment_examples(16, 1000)).unwrap();
    let assets = fixtures().join("../../assets");
    let path = |p: &std::path::Path| p.to_str().unwrap().to_string();
    let run = bert(&[
        "finetune-classifier",
        "--model",
        &path(&assets),
        "--train",
        &path(&train),
        "--eval",
        &path(&eval),
        "--out",
        &path(&out),
        "--steps",
        "60",
    ]);
    ok(&run);
    let trained: TrainedJson = serde_json::from_slice(&run.stdout).unwrap();
    assert_eq!(trained.labels, ["positive", "negative"]);
    assert_eq!(trained.held_out, 16);
    assert!(
        trained.accuracy >= 0.8,
        "held-out accuracy {}",
        trained.accuracy
    );
    for f in ["config.json", "model.safetensors", "tokenizer.json"] {
        assert!(out.join(f).exists(), "{f} missing");
    }

    let text = "what a delightful evening that was!";
    let classified = bert(&["classify", "--model", &path(&out), "--json", text]);
    ok(&classified);
    let v: SequenceJson = serde_json::from_slice(&classified.stdout).unwrap();
    assert_eq!(v.task, "sequence");
    assert_eq!(v.logits.len(), 2);
    assert_eq!(v.predictions[0].label, "positive");
    // The saved directory is a task checkpoint: it loads as one, with the same answer.
    let p = Pipeline::load_dir(&out, device::cpu()).unwrap();
    let Head::Sequence(model) = &p.head else {
        panic!("a sequence classifier was saved")
    };
    let enc = p.tokenizer.encode(text, None).unwrap();
    let again = pollster::block_on(classify_sequence(
        model,
        &enc,
        p.tokenizer.pad_id(),
        false,
        &p.device,
    ))
    .unwrap();
    assert_close("reloaded logits", &again.logits, &v.logits, 1e-5);

    // Bad input fails with a message.
    let one_label = dir.join("one.tsv");
    std::fs::write(
        &one_label,
        "good\tfine\ngood\tnice\ngood\tok\ngood\tyes\ngood\tsure\n",
    )
    .unwrap();
    let no_label = dir.join("nolabel.tsv");
    std::fs::write(&no_label, "good\tfine\njust a sentence\n").unwrap();
    for (file, needle) in [(&one_label, "at least two"), (&no_label, "line 2")] {
        assert_clean_failure(
            &bert(&[
                "finetune-classifier",
                "--model",
                &path(&assets),
                "--train",
                &path(file),
                "--out",
                &path(&dir.join("never")),
            ]),
            needle,
        );
    }
    assert_clean_failure(
        &bert(&["classify", "--model", &path(&assets), "a text"]),
        "no classification head",
    );
    std::fs::remove_dir_all(&dir).ok();
}
