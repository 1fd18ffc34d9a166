//! The task heads against transformers: BertForSequenceClassification and
//! BertForTokenClassification checkpoints as published (logits), one AdamW step of
//! sequence classification (cross-entropy) equal to torch's, a new classifier started from
//! a masked-LM checkpoint, and bad labelled input refused with a message.

mod cli;
#[path = "../common/mod.rs"]
mod common;

use bert_burn::checkpoint::CheckpointFiles;
use bert_burn::inference::{classify_sequence, classify_tokens};
use bert_burn::model::init::NamedTensor;
use bert_burn::train::MlmTrainer;
use bert_burn::train::classifier_run::hold_out;
use bert_burn::train::classify::{
    EncodedExample, label_set, parse_labelled, sequence_classification_loss,
};
use bert_burn::{Head, Pipeline, Task, device};
use common::train_step::{
    assert_adam_step, assert_rel, encoding_of, golden_rows, train_step_config,
};
use common::*;

fn load(name: &str) -> Pipeline {
    Pipeline::load_dir(&model_dir(name), device::cpu())
        .unwrap_or_else(|e| panic!("loading {name}: {e}"))
}

#[test]
fn sequence_classifier_matches_transformers() {
    let p = load("seq-cls");
    let Head::Sequence(model) = &p.head else {
        panic!("seq-cls is a sequence classifier")
    };
    assert_eq!(
        p.config().labels().unwrap(),
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
    let Head::Token(model) = &p.head else {
        panic!("tok-cls is a token classifier")
    };
    assert_eq!(p.task(), Task::Token);
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

#[test]
fn family_token_classifiers_match_transformers() {
    for name in [
        "family-roberta-tok",
        "family-distilbert-tok",
        "family-albert-tok",
    ] {
        let p = load(name);
        let Head::Token(model) = &p.head else {
            panic!("{name} is a token classifier")
        };
        let golden = Golden::open(name);
        let (shape, expected) = golden.get("logits");
        let (seq, labels) = (shape[1], shape[2]);
        for (b, (ids, types)) in golden_rows(|n| golden.get(n)).iter().enumerate() {
            let enc = encoding_of(ids, types);
            let out = pollster::block_on(classify_tokens(
                model,
                &enc,
                p.tokenizer.pad_id(),
                false,
                &p.device,
            ))
            .unwrap();
            let ours: Vec<f32> = out.logits.concat();
            let theirs = &expected[b * seq * labels..(b * seq + ids.len()) * labels];
            assert_close(&format!("{name} row {b} token logits"), &ours, theirs, 1e-4);
        }
        // Saved again, it has the names transformers wrote.
        let Head::Token(model) = &p.head else {
            unreachable!()
        };
        let mut saved: Vec<String> = model.named_tensors().into_iter().map(|t| t.0).collect();
        let file = std::fs::read(model_dir(name).join("model.safetensors")).unwrap();
        let mut theirs = bert_burn::checkpoint::SafetensorsFile::parse(&file)
            .unwrap()
            .names();
        saved.sort();
        theirs.sort();
        assert_eq!(saved, theirs, "{name}: saved names");
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
    let p = Pipeline::load_dir(&model_dir("seq-cls"), dev.clone()).unwrap();
    let Head::Sequence(model) = p.head else {
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
    let initial = Pipeline::load_dir(&model_dir("seq-cls"), device::cpu()).unwrap();
    let Head::Sequence(initial) = initial.head else {
        panic!("seq-cls is a sequence classifier")
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
    let (model, _) = Pipeline::new_sequence_classifier(&files, &labels, &device::cpu()).unwrap();
    assert_eq!(model.config().task(), Task::Sequence);
    assert_eq!(model.config().labels().unwrap(), labels);
    let mlm = Pipeline::load_dir(&model_dir("gelu-f32"), device::cpu()).unwrap();
    let read =
        |t: &NamedTensor| pollster::block_on(bert_burn::checkpoint::read_f32(t.2.clone())).unwrap();
    let ours = model.named_tensors();
    // The encoder is the checkpoint's, exactly.
    for theirs in mlm
        .head
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
    let classifier = load("seq-cls");
    assert_eq!(classifier.task(), Task::Sequence);
    assert!(classifier.check_classifier().is_ok());
    let err = classifier
        .masked_lm()
        .expect_err("fill-mask refuses a classifier")
        .to_string();
    assert!(err.contains("BertForSequenceClassification"), "{err}");
    let masked_lm = load("gelu-f32");
    assert!(masked_lm.masked_lm().is_ok());
    let err = masked_lm
        .check_classifier()
        .expect_err("classify refuses a masked-LM checkpoint")
        .to_string();
    assert!(err.contains("no classification head"), "{err}");
    // Each head's parameters, counted on the model built, as its config predicts them.
    for p in [&classifier, &masked_lm, &load("tok-cls")] {
        assert_eq!(p.head.parameters() as f64, p.config().parameter_count());
    }
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
