//! The task heads against transformers: BertForSequenceClassification and
//! BertForTokenClassification checkpoints as published (logits), one AdamW step of
//! sequence classification (cross-entropy) equal to torch's, a new classifier started from
//! a masked-LM checkpoint, and bad labelled input refused with a message.

mod common;

use bert_burn::checkpoint::CheckpointFiles;
use bert_burn::inference::{classify_sequence, classify_tokens};
use bert_burn::model::init::NamedTensor;
use bert_burn::train::MlmTrainer;
use bert_burn::train::classifier_run::hold_out;
use bert_burn::train::classify::{
    EncodedExample, label_set, parse_labelled, sequence_classification_loss,
};
use bert_burn::{Classifier, ClassifierPipeline, Pipeline, Task, device};
use common::train_step::{
    assert_adam_step, assert_rel, encoding_of, golden_rows, train_step_config,
};
use common::*;

fn load(name: &str) -> ClassifierPipeline {
    ClassifierPipeline::load_dir(&model_dir(name), device::cpu())
        .unwrap_or_else(|e| panic!("loading {name}: {e}"))
}

#[test]
fn sequence_classifier_matches_transformers() {
    let p = load("seq-cls");
    let Classifier::Sequence(model) = &p.model else {
        panic!("seq-cls is a sequence classifier")
    };
    assert_eq!(
        p.model.config().labels().unwrap(),
        ["negative", "neutral", "positive"]
    );
    let golden = Golden::open("seq-cls");
    let (_, expected) = golden.get("logits");
    let rows = golden_rows(|n| golden.get(n));
    let labels = 3;
    for (b, (ids, types)) in rows.iter().enumerate() {
        let out = pollster::block_on(classify_sequence(
            model,
            &encoding_of(ids, types),
            p.tokenizer.pad_id(),
            true,
            &p.device,
        ))
        .unwrap();
        assert_close(
            &format!("row {b} logits"),
            &out.logits,
            &expected[b * labels..(b + 1) * labels],
            1e-4,
        );
        let total: f32 = out.predictions.iter().map(|s| s.probability).sum();
        assert!((total - 1.0).abs() < 1e-5);
        assert!(
            out.predictions
                .windows(2)
                .all(|w| w[0].probability >= w[1].probability)
        );
        let layers = model.config().num_hidden_layers;
        let heads = model.config().num_attention_heads;
        assert_eq!(out.attentions.len(), layers * heads * ids.len() * ids.len());
    }
}

#[test]
fn token_classifier_matches_transformers() {
    let p = load("tok-cls");
    let Classifier::Token(model) = &p.model else {
        panic!("tok-cls is a token classifier")
    };
    assert_eq!(p.model.task(), Task::Token);
    let golden = Golden::open("tok-cls");
    let (shape, expected) = golden.get("logits");
    let (seq, labels) = (shape[1], shape[2]);
    for (b, (ids, types)) in golden_rows(|n| golden.get(n)).iter().enumerate() {
        let out = pollster::block_on(classify_tokens(
            model,
            &encoding_of(ids, types),
            p.tokenizer.pad_id(),
            false,
            &p.device,
        ))
        .unwrap();
        assert_eq!(out.predictions.len(), ids.len());
        let ours: Vec<f32> = out.logits.concat();
        let theirs = &expected[b * seq * labels..(b * seq + ids.len()) * labels];
        assert_close(&format!("row {b} token logits"), &ours, theirs, 1e-4);
        for (t, p) in out.predictions.iter().enumerate() {
            let row = &out.logits[t];
            let best = (0..labels)
                .max_by(|&x, &y| row[x].total_cmp(&row[y]))
                .unwrap();
            assert_eq!(p.id, best);
        }
    }
}

/// Looks a parameter up by its Hugging Face name.
fn param<'a>(named: &'a [NamedTensor], name: &str) -> &'a NamedTensor {
    named
        .iter()
        .find(|(n, _, _)| n == name)
        .unwrap_or_else(|| panic!("no parameter {name}"))
}

#[test]
fn one_adamw_step_of_sequence_classification_matches_pytorch() {
    let golden = Golden::open("classify-step");
    let rows = golden_rows(|n| Golden::open("seq-cls").get(n));
    let (_, targets) = golden.get("labels");
    let dev = device::cpu().autodiff();
    let p = ClassifierPipeline::load_dir(&model_dir("seq-cls"), dev.clone()).unwrap();
    let Classifier::Sequence(model) = p.model else {
        panic!("seq-cls is a sequence classifier")
    };
    let examples: Vec<EncodedExample> = rows
        .iter()
        .zip(&targets)
        .map(|((ids, type_ids), &label)| EncodedExample {
            ids: ids.clone(),
            type_ids: type_ids.clone(),
            label: label as usize,
        })
        .collect();
    let batch: Vec<&EncodedExample> = examples.iter().collect();
    let pad = p.tokenizer.pad_id();
    let loss = sequence_classification_loss(&model, &batch, pad, &dev).unwrap();
    let mut trainer = MlmTrainer::new(train_step_config()).unwrap();
    let (model, report) = pollster::block_on(trainer.step_on_loss(model, loss)).unwrap();
    let (_, before) = golden.get("loss_before");
    assert_rel("loss before", &[report.loss], &before, 1e-5);
    let named = model.named_tensors();
    let initial = ClassifierPipeline::load_dir(&model_dir("seq-cls"), device::cpu()).unwrap();
    let Classifier::Sequence(initial) = initial.model else {
        unreachable!()
    };
    let initial = initial.named_tensors();
    for (name, _, tensor) in &named {
        let (_, theirs) = golden.get(&format!("param.{name}"));
        let ours = pollster::block_on(bert_burn::checkpoint::read_f32(tensor.clone())).unwrap();
        let before = pollster::block_on(bert_burn::checkpoint::read_f32(
            param(&initial, name).2.clone(),
        ))
        .unwrap();
        assert_adam_step(name, &before, &ours, &theirs, &train_step_config(), 1e-5);
    }
    let after = pollster::block_on(bert_burn::checkpoint::read_f32(
        sequence_classification_loss(&model, &batch, pad, &dev).unwrap(),
    ))
    .unwrap();
    let (_, theirs) = golden.get("loss_after");
    assert_rel("loss after", &after, &theirs, 1e-5);
    assert!(param(&named, "classifier.weight").1 == vec![3, 64]);
}

#[test]
fn a_masked_lm_checkpoint_starts_a_new_classifier() {
    let files = CheckpointFiles::read_dir(&model_dir("gelu-f32")).unwrap();
    let labels: Vec<String> = ["no", "yes"].map(String::from).to_vec();
    let (model, _) =
        ClassifierPipeline::new_sequence_classifier(&files, &labels, device::cpu()).unwrap();
    assert_eq!(model.config().task(), Task::Sequence);
    assert_eq!(model.config().labels().unwrap(), labels);
    let mlm = Pipeline::load_dir(&model_dir("gelu-f32"), device::cpu()).unwrap();
    let read =
        |t: &NamedTensor| pollster::block_on(bert_burn::checkpoint::read_f32(t.2.clone())).unwrap();
    let ours = model.named_tensors();
    // The encoder is the checkpoint's, exactly.
    for theirs in mlm
        .model
        .named_tensors()
        .iter()
        .filter(|t| t.0.starts_with("bert."))
    {
        assert_eq!(read(param(&ours, &theirs.0)), read(theirs), "{}", theirs.0);
    }
    // The new head as transformers initialises it: N(0, 0.02) weights, zero biases.
    for name in ["bert.pooler.dense", "classifier"] {
        let w = read(param(&ours, &format!("{name}.weight")));
        let std = (w.iter().map(|x| x * x).sum::<f32>() / w.len() as f32).sqrt();
        assert!((0.012..0.028).contains(&std), "{name}: std {std}");
        assert!(
            read(param(&ours, &format!("{name}.bias")))
                .iter()
                .all(|&b| b == 0.0)
        );
    }
    assert_eq!(param(&ours, "classifier.weight").1, vec![2, 64]);
}

#[test]
fn task_and_masked_lm_checkpoints_are_told_apart() {
    let err = Pipeline::load_dir(&model_dir("seq-cls"), device::cpu())
        .err()
        .expect("fill-mask refuses a classifier")
        .to_string();
    assert!(err.contains("BertForSequenceClassification"), "{err}");
    let err = ClassifierPipeline::load_dir(&model_dir("gelu-f32"), device::cpu())
        .err()
        .expect("classify refuses a masked-LM checkpoint")
        .to_string();
    assert!(err.contains("no classification head"), "{err}");
}

#[test]
fn labelled_text_is_parsed_and_bad_input_refused() {
    let ok = parse_labelled("pos\tgreat film\n\nneg: dull: very dull\n", 10).unwrap();
    assert_eq!(ok.len(), 2);
    assert_eq!(
        (ok[1].label.as_str(), ok[1].text.as_str()),
        ("neg", "dull: very dull")
    );
    assert_eq!(label_set(&ok).unwrap(), ["pos", "neg"]);
    let err = parse_labelled("pos\tgood\njust text\n", 10)
        .unwrap_err()
        .to_string();
    assert!(err.contains("line 2") && err.contains("no label"), "{err}");
    let err = label_set(&parse_labelled("a\tx\na\ty", 10).unwrap())
        .unwrap_err()
        .to_string();
    assert!(err.contains("at least two"), "{err}");
    assert!(label_set(&[]).is_err());
    let many = "a\tx\n".repeat(11);
    let err = parse_labelled(&many, 10).unwrap_err().to_string();
    assert!(err.contains("more than 10"), "{err}");
}

#[test]
fn every_fifth_example_is_held_out_unless_its_label_would_be_lost() {
    let lines: String = (0..10)
        .map(|i| format!("{}\ttext {i}\n", if i % 2 == 0 { "a" } else { "b" }))
        .collect();
    let (train, held) = hold_out(parse_labelled(&lines, 100).unwrap(), 5).unwrap();
    let texts = |v: &[bert_burn::train::classify::LabelledExample]| {
        v.iter().map(|e| e.text.clone()).collect::<Vec<_>>()
    };
    assert_eq!(texts(&held), ["text 4", "text 9"]);
    assert_eq!(train.len(), 8);
    // `c` occurs once, as a fifth example: it stays in training, where it can be learned.
    let rare = "a\tx\nb\ty\na\tz\nb\tw\nc\tv\na\tu\nb\tt\na\ts\nb\tr\na\tq\n";
    let (train, held) = hold_out(parse_labelled(rare, 100).unwrap(), 5).unwrap();
    assert!(train.iter().any(|e| e.label == "c"));
    assert_eq!(texts(&held), ["q"]);
    for (text, why) in [
        ("a\tx\nb\ty\n", "at least 5"),
        ("a\tx\na\ty\na\tz\na\tw\nb\tv\n", "at least two"),
        (
            "a\tx\nb\ty\nc\tz\nd\tw\ne\tv\n",
            "no example could be held out",
        ),
    ] {
        let err = hold_out(parse_labelled(text, 100).unwrap(), 5)
            .unwrap_err()
            .to_string();
        assert!(err.contains(why), "{text:?}: {err}");
    }
}

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
    let p = ClassifierPipeline::load_dir(&out, device::cpu()).unwrap();
    let Classifier::Sequence(model) = &p.model else {
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
