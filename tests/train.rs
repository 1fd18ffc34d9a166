//! One training step against PyTorch: loss, gradients (with tied embeddings), global
//! clipping and AdamW with BERT's no-decay group, from the same weights and batch.

mod common;

use bert_burn::checkpoint::read_f32;
use bert_burn::train::{MlmBatch, MlmTrainer, TrainConfig, lr_at, mlm_loss};
use bert_burn::{Pipeline, device};
use common::train_step::{assert_adam_step, assert_rel, golden_train_batch, train_step_config};
use common::*;

fn batch(golden: &Golden) -> MlmBatch {
    golden_train_batch(|name| golden.get(name))
}

fn config() -> TrainConfig {
    train_step_config()
}

#[test]
fn one_adamw_step_matches_pytorch() {
    let golden = Golden::open("train-step");
    let device = device::cpu().autodiff();
    let p = Pipeline::load_dir(&model_dir("gelu-f32"), device.clone()).unwrap();
    let initial = p.into_masked_lm().unwrap();
    let batch = batch(&golden);
    assert_eq!(batch.num_targets(), 6);

    // Loss and gradients, before any clipping.
    let loss = mlm_loss(&initial, &batch, 0, &device).unwrap();
    let grads = loss.backward();
    let (_, want) = golden.get("loss_before");
    let got = pollster::block_on(read_f32(loss)).unwrap();
    assert_rel("loss before", &got, &want, 1e-5);
    let read = |t| pollster::block_on(read_f32::<2>(t)).unwrap();
    let emb = &initial.bert.embeddings.word_embeddings.weight;
    let (_, want) = golden.get("grad.bert.embeddings.word_embeddings.weight");
    // Tied: the decoder's gradient flows into the embedding matrix too.
    assert_rel(
        "grad word embeddings",
        &read(emb.val().grad(&grads).unwrap()),
        &want,
        1e-5,
    );
    let query = &initial.bert.encoder.layer[1]
        .attention
        .self_attention
        .query
        .weight;
    let (_, want) = golden.get("grad.bert.encoder.layer.1.attention.self.query.weight");
    assert_rel(
        "grad query",
        &read(query.val().grad(&grads).unwrap().transpose()),
        &want,
        1e-5,
    );
    let bias = &initial.cls.predictions.bias;
    let (_, want) = golden.get("grad.cls.predictions.bias");
    let got = pollster::block_on(read_f32(bias.val().grad(&grads).unwrap())).unwrap();
    assert_rel("grad mlm bias", &got, &want, 1e-5);

    // The step itself: clipping (the fixture's norm is > 1) and AdamW with groups.
    let mut trainer = MlmTrainer::new(config()).unwrap();
    let (model, report) = pollster::block_on(trainer.step(initial, &batch, 0, &device)).unwrap();
    let (_, want) = golden.get("loss_before");
    assert!((report.loss - want[0]).abs() <= 1e-5 * want[0].abs());
    assert_eq!(report.lr, 1e-3);
    for (name, _, tensor) in model.named_tensors() {
        let (_, want) = golden.get(&format!("param.{name}"));
        let got = pollster::block_on(read_f32(tensor)).unwrap();
        assert_rel(&format!("updated {name}"), &got, &want, 1e-5);
    }
    let after = mlm_loss(&model, &batch, 0, &device).unwrap();
    let (_, want) = golden.get("loss_after");
    assert_rel(
        "loss after",
        &pollster::block_on(read_f32(after)).unwrap(),
        &want,
        1e-5,
    );
}

#[test]
fn schedule_warms_up_then_decays_linearly_to_zero() {
    let c = TrainConfig {
        lr: 1e-3,
        warmup_steps: 10,
        total_steps: 110,
        ..TrainConfig::default()
    };
    assert_eq!(lr_at(&c, 0), 0.0);
    assert!((lr_at(&c, 5) - 5e-4).abs() < 1e-12);
    assert!((lr_at(&c, 10) - 1e-3).abs() < 1e-12);
    assert!((lr_at(&c, 60) - 5e-4).abs() < 1e-12);
    assert_eq!(lr_at(&c, 110), 0.0);
    assert_eq!(lr_at(&c, 500), 0.0);
}

#[test]
fn a_batch_without_targets_is_an_error() {
    let device = device::cpu().autodiff();
    let p = Pipeline::load_dir(&model_dir("gelu-f32"), device.clone()).unwrap();
    let batch = MlmBatch {
        ids: vec![vec![2, 10, 11, 3]],
        type_ids: vec![vec![0; 4]],
        labels: vec![vec![-100; 4]],
    };
    let err = mlm_loss(p.masked_lm().unwrap(), &batch, 0, &device).expect_err("no targets");
    assert!(err.to_string().contains("masked position"), "{err}");
}

/// Sequences of doubled tokens, `[CLS] a a b b c c … [SEP]`: a masked token can only be
/// recovered by attending to its neighbour, so learning it proves that attention,
/// positions and the optimizer work together over many steps.
fn doubled(rng: &mut bert_burn::train::data::Rng, pairs: usize, vocab: u32) -> Vec<u32> {
    let mut seq = vec![2];
    for _ in 0..pairs {
        let t = rng.range(5, vocab);
        seq.extend([t, t]);
    }
    seq.push(3);
    seq
}

#[test]
fn training_learns_to_use_context() {
    use bert_burn::BertConfig;
    use bert_burn::model::BertForMaskedLM;
    use bert_burn::train::data::{Masking, Rng, make_batch};

    let vocab = 64u32;
    let config = BertConfig {
        vocab_size: vocab as usize,
        hidden_size: 32,
        num_hidden_layers: 1,
        num_attention_heads: 2,
        intermediate_size: 64,
        max_position_embeddings: 32,
        ..BertConfig::default()
    };
    let device = device::cpu().autodiff();
    device.seed(1);
    let mut model = BertForMaskedLM::init(&config, &device).unwrap();
    let masking = Masking {
        probability: 0.15,
        mask_id: 4,
        vocab_size: vocab,
        special_ids: vec![0, 1, 2, 3, 4],
        first_regular_id: 5,
    };
    let steps = 3000;
    let mut trainer = MlmTrainer::new(TrainConfig {
        lr: 3e-3,
        warmup_steps: 20,
        total_steps: steps,
        ..TrainConfig::default()
    })
    .unwrap();
    let mut rng = Rng::new(3);
    for _ in 0..steps {
        let seqs: Vec<Vec<u32>> = (0..16).map(|_| doubled(&mut rng, 12, vocab)).collect();
        let batch = make_batch(&seqs, &masking, &mut rng);
        model = pollster::block_on(trainer.step(model, &batch, 0, &device))
            .unwrap()
            .0;
    }

    // Held-out sequences, one token of each pair masked: the partner gives it away.
    let model = burn::module::Module::valid(&model);
    let plain = device.clone().inner();
    let (mut right, mut total) = (0, 0);
    for _ in 0..20 {
        let mut seq = doubled(&mut rng, 12, vocab);
        let position = 1 + 2 * rng.range(0, 12) as usize;
        let answer = seq[position];
        seq[position] = 4;
        let types = vec![0; seq.len()];
        let logits = pollster::block_on(bert_burn::inference::logits_at(
            &model,
            &seq,
            &types,
            &[position],
            0,
            &plain,
        ))
        .unwrap();
        let best = logits[0]
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.total_cmp(b.1))
            .unwrap()
            .0;
        right += usize::from(best as u32 == answer);
        total += 1;
    }
    // Without context the best possible is 1 in 59; with it, nearly all.
    assert!(
        right * 10 >= total * 9,
        "only {right}/{total} masked tokens recovered from context"
    );
}

/// The local-attention initialisation: keys equal queries in every layer, positions are
/// sinusoids at BERT's init scale, so a position is closer to its neighbours than to far
/// positions — what makes attention start local.
#[test]
fn local_attention_init_ties_keys_to_queries_and_orders_positions() {
    use bert_burn::BertConfig;
    use bert_burn::model::BertForMaskedLM;
    let config = BertConfig {
        vocab_size: 50,
        hidden_size: 32,
        num_hidden_layers: 2,
        num_attention_heads: 4,
        intermediate_size: 64,
        max_position_embeddings: 64,
        ..BertConfig::default()
    };
    let device = device::cpu();
    let model = BertForMaskedLM::init(&config, &device)
        .unwrap()
        .with_local_attention_init(0.1);
    let read = |t| pollster::block_on(read_f32::<2>(t)).unwrap();
    for layer in &model.bert.encoder.layer {
        let a = &layer.attention.self_attention;
        let (q, k) = (read(a.query.weight.val()), read(a.key.weight.val()));
        assert_eq!(q, k);
        let std = (q.iter().map(|x| x * x).sum::<f32>() / q.len() as f32).sqrt();
        assert!((std - 0.1).abs() < 0.01, "query std {std}");
    }
    let p = read(model.bert.embeddings.position_embeddings.weight.val());
    let row = |i: usize| &p[i * 32..(i + 1) * 32];
    let dot = |a: &[f32], b: &[f32]| a.iter().zip(b).map(|(x, y)| x * y).sum::<f32>();
    let scale = 0.02 * std::f32::consts::SQRT_2;
    assert!((row(0)[1] - scale).abs() < 1e-6, "cos(0) at BERT's scale");
    assert!(row(0)[0].abs() < 1e-6, "sin(0)");
    for i in [5, 20, 40] {
        assert!(
            dot(row(i), row(i + 1)) > dot(row(i), row(i + 20)),
            "position {i}"
        );
    }
}

#[test]
fn every_family_takes_the_adamw_step_torch_takes() {
    for name in FAMILIES {
        let golden = Golden::open(name);
        let get = |key: &str| golden.get(&format!("train.{key}"));
        let device = device::cpu().autodiff();
        let p = Pipeline::load_dir(&model_dir(name), device.clone()).unwrap();
        let pad = p.tokenizer.pad_id();
        let initial = p.into_masked_lm().unwrap();
        let before: Vec<Vec<f32>> = initial
            .named_tensors()
            .into_iter()
            .map(|(_, _, t)| pollster::block_on(read_f32(t)).unwrap())
            .collect();
        let batch = golden_train_batch(get);
        let mut trainer = MlmTrainer::new(config()).unwrap();
        let (model, report) =
            pollster::block_on(trainer.step(initial, &batch, pad, &device)).unwrap();
        let (_, want) = get("loss_before");
        assert!(
            (report.loss - want[0]).abs() <= 1e-5 * want[0].abs(),
            "{name}: loss {} vs torch {}",
            report.loss,
            want[0]
        );
        // Every parameter after the step, under transformers' names (ALBERT's shared
        // layers once, with the gradients of every step that ran them).
        for ((tensor_name, _, tensor), before) in model.named_tensors().into_iter().zip(&before) {
            let (_, want) = get(&format!("param.{tensor_name}"));
            let got = pollster::block_on(read_f32(tensor)).unwrap();
            assert_adam_step(
                &format!("{name}: updated {tensor_name}"),
                before,
                &got,
                &want,
                &config(),
                1e-5,
            );
        }
        let after = mlm_loss(&model, &batch, pad, &device).unwrap();
        let (_, want) = get("loss_after");
        assert_rel(
            &format!("{name}: loss after"),
            &pollster::block_on(read_f32(after)).unwrap(),
            &want,
            1e-5,
        );
    }
}
