//! The task heads against transformers, and a classifier trained as torch trains it.

use super::*;

const SEQ_CONFIG: &str = include_str!("../../../tests/fixtures/models/seq-cls/config.json");
const SEQ_WEIGHTS: &[u8] =
    include_bytes!("../../../tests/fixtures/models/seq-cls/model.safetensors");
const SEQ_GOLDEN: &[u8] = include_bytes!("../../../tests/fixtures/golden/seq-cls.safetensors");
const TOK_CONFIG: &str = include_str!("../../../tests/fixtures/models/tok-cls/config.json");
const TOK_WEIGHTS: &[u8] =
    include_bytes!("../../../tests/fixtures/models/tok-cls/model.safetensors");
const TOK_GOLDEN: &[u8] = include_bytes!("../../../tests/fixtures/golden/tok-cls.safetensors");
const CLASSIFY_STEP: &[u8] =
    include_bytes!("../../../tests/fixtures/golden/classify-step.safetensors");

/// Both task heads as published, against transformers' logits.
async fn check_task_heads(device: burn::tensor::Device) {
    use bert_burn::checkpoint::{HeadWeights, load_sequence_classifier, load_token_classifier};
    use bert_burn::inference::{classify_sequence, classify_tokens};
    let config = BertConfig::from_json(SEQ_CONFIG).unwrap();
    let model =
        load_sequence_classifier(&config, SEQ_WEIGHTS, &device, HeadWeights::FromCheckpoint)
            .unwrap();
    let golden = SafetensorsFile::parse(SEQ_GOLDEN).unwrap();
    let (_, expected) = golden.f32("logits").unwrap();
    for (b, (ids, types)) in golden_rows(|n| golden.f32(n).unwrap()).iter().enumerate() {
        let out = classify_sequence(&model, &encoding_of(ids, types), 0, true, &device)
            .await
            .unwrap();
        let d = max_abs_diff(&out.logits, &expected[b * 3..(b + 1) * 3]);
        assert!(d < LOGIT_TOL, "sequence logits of row {b} differ by {d:e}");
        assert!(!out.attentions.is_empty());
    }
    let config = BertConfig::from_json(TOK_CONFIG).unwrap();
    let model =
        load_token_classifier(&config, TOK_WEIGHTS, &device, HeadWeights::FromCheckpoint).unwrap();
    let golden = SafetensorsFile::parse(TOK_GOLDEN).unwrap();
    let (shape, expected) = golden.f32("logits").unwrap();
    let (seq, labels) = (shape[1], shape[2]);
    for (b, (ids, types)) in golden_rows(|n| golden.f32(n).unwrap()).iter().enumerate() {
        let out = classify_tokens(&model, &encoding_of(ids, types), 0, false, &device)
            .await
            .unwrap();
        let theirs = &expected[b * seq * labels..(b * seq + ids.len()) * labels];
        let d = max_abs_diff(&out.logits.concat(), theirs);
        assert!(d < LOGIT_TOL, "token logits of row {b} differ by {d:e}");
    }
}

#[wasm_bindgen_test]
async fn task_heads_match_transformers_on_the_cpu_fallback() {
    check_task_heads(backend::cpu(None).device).await;
}

#[wasm_bindgen_test]
async fn task_heads_match_transformers_on_webgpu() {
    let backend = backend::open(Preference::WebGpu).await;
    assert_eq!(backend.info.kind, BackendKind::Webgpu);
    check_task_heads(backend.device).await;
}

/// One AdamW step of sequence classification against torch's (1e-5 relative where the
/// step is well conditioned, see `assert_adam_step`), then a tiny task learned from a
/// masked-LM start.
async fn check_classifier_training(device: burn::tensor::Device) {
    use bert_burn::checkpoint::{HeadWeights, read_f32};
    use bert_burn::train::MlmTrainer;
    use bert_burn::train::classify::{EncodedExample, accuracy, sequence_classification_loss};
    const TOL: f32 = 1e-5;
    let autodiff = device.clone().autodiff();
    let config = BertConfig::from_json(SEQ_CONFIG).unwrap();
    let load = |d: &burn::tensor::Device| {
        bert_burn::checkpoint::load_sequence_classifier(
            &config,
            SEQ_WEIGHTS,
            d,
            HeadWeights::FromCheckpoint,
        )
        .unwrap()
    };
    let golden = SafetensorsFile::parse(CLASSIFY_STEP).unwrap();
    let (_, targets) = golden.f32("labels").unwrap();
    let rows = {
        let seq = SafetensorsFile::parse(SEQ_GOLDEN).unwrap();
        golden_rows(|n| seq.f32(n).unwrap())
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
    let model = load(&autodiff);
    let initial = load(&device).named_tensors();
    let loss = sequence_classification_loss(&model, &batch, 0, &autodiff).unwrap();
    let mut trainer = MlmTrainer::new(train_step_config()).unwrap();
    let (model, report) = trainer.step_on_loss(model, loss).await.unwrap();
    let (_, want) = golden.f32("loss_before").unwrap();
    assert_rel("loss before", &[report.loss], &want, TOL);
    for ((name, _, tensor), (_, _, before)) in model.named_tensors().into_iter().zip(initial) {
        let (_, want) = golden.f32(&format!("param.{name}")).unwrap();
        let ours = read_f32(tensor).await.unwrap();
        let before = read_f32(before).await.unwrap();
        assert_adam_step(&name, &before, &ours, &want, &train_step_config(), TOL);
    }

    // A tiny task: the label is whether the text says "good" or "bad".
    let files = fixture_files();
    let mut checkpoint = bert_burn::checkpoint::CheckpointFiles::new();
    checkpoint.insert("config.json", files.config_json.as_bytes().to_vec());
    checkpoint.insert("model.safetensors", files.weights.clone());
    checkpoint.insert("tokenizer.json", TOKENIZER.to_vec());
    let labels = vec!["good".to_string(), "bad".to_string()];
    let (mut model, tokenizer) =
        bert_burn::Pipeline::new_sequence_classifier(&checkpoint, &labels, &autodiff).unwrap();
    let nouns = ["day", "book", "house", "man", "time", "way"];
    let examples: Vec<EncodedExample> = (0..12)
        .map(|i| {
            let word = if i % 2 == 0 { "good" } else { "bad" };
            let enc = tokenizer
                .encode(&format!("a {word} {}", nouns[i % nouns.len()]), None)
                .unwrap();
            EncodedExample {
                ids: enc.ids,
                type_ids: enc.type_ids,
                label: i % 2,
            }
        })
        .collect();
    let mut trainer = MlmTrainer::new(bert_burn::train::TrainConfig {
        lr: 1e-3,
        total_steps: 30,
        ..Default::default()
    })
    .unwrap();
    for _ in 0..30 {
        let batch: Vec<&EncodedExample> = examples.iter().collect();
        let loss = sequence_classification_loss(&model, &batch, 0, &autodiff).unwrap();
        model = trainer.step_on_loss(model, loss).await.unwrap().0;
    }
    use burn::module::Module;
    let learned = accuracy(&model.valid(), &examples, 0, &device)
        .await
        .unwrap();
    assert_eq!(learned, 1.0, "the tiny task was not learned");
}

#[wasm_bindgen_test]
async fn a_classifier_trains_as_torch_does_on_the_cpu_fallback() {
    check_classifier_training(backend::cpu(None).device).await;
}

#[wasm_bindgen_test]
async fn a_classifier_trains_as_torch_does_on_webgpu() {
    let backend = backend::open(Preference::WebGpu).await;
    assert_eq!(backend.info.kind, BackendKind::Webgpu);
    check_classifier_training(backend.device).await;
}
