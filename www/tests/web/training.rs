//! Training in the browser: one AdamW step against torch on both backends,
//! fine-tuning that learns a fact and exports it, memory held flat over 200 steps,
//! and the default passing over a software adapter.

use super::*;

const TRAIN_STEP: &[u8] = include_bytes!("../../../tests/fixtures/golden/train-step.safetensors");

/// One AdamW step (clipping, no-decay group, tied embeddings) against
/// `torch.optim.AdamW` from the same weights and batch: gradients, updated weights and
/// the loss before and after, all within 1e-5 relative, as natively.
async fn check_adamw_step(backend: bert_web::backend::Backend) {
    use bert_burn::checkpoint::read_f32;
    use bert_burn::pipeline::TokenizerFiles;
    use bert_burn::train::{MlmTrainer, mlm_loss};
    const TOL: f32 = 1e-5;
    let device = backend.device.clone().autodiff();
    let p = bert_burn::Pipeline::from_bytes(
        CONFIG,
        WEIGHTS,
        TokenizerFiles::Json(TOKENIZER),
        device.clone(),
    )
    .unwrap();
    let golden = SafetensorsFile::parse(TRAIN_STEP).unwrap();
    let batch = golden_train_batch(|name| golden.f32(name).unwrap());
    let mut trainer = MlmTrainer::new(train_step_config()).unwrap();
    // Gradients (tied embeddings included) before any clipping, as the native test checks them.
    let model = p.masked_lm().unwrap();
    let loss = mlm_loss(model, &batch, 0, &device).unwrap();
    let grads = loss.backward();
    let emb = model
        .bert
        .embeddings
        .word_embeddings
        .weight
        .val()
        .grad(&grads)
        .unwrap();
    let query = model.bert.encoder.layer[1]
        .attention
        .self_attention
        .query
        .weight
        .val()
        .grad(&grads)
        .unwrap();
    for (name, grad) in [
        ("bert.embeddings.word_embeddings.weight", emb),
        // Burn stores Linear weights as [in, out]; torch as [out, in].
        (
            "bert.encoder.layer.1.attention.self.query.weight",
            query.transpose(),
        ),
    ] {
        let (_, want) = golden.f32(&format!("grad.{name}")).unwrap();
        assert_rel(
            &format!("gradient of {name}"),
            &read_f32(grad).await.unwrap(),
            &want,
            TOL,
        );
    }
    let (model, report) = trainer
        .step(model.clone(), &batch, 0, &device)
        .await
        .unwrap();
    let (_, want) = golden.f32("loss_before").unwrap();
    assert_rel("loss before", &[report.loss], &want, TOL);
    let mut checked = 0;
    for (name, _, tensor) in model.named_tensors() {
        let (_, want) = golden.f32(&format!("param.{name}")).unwrap();
        assert_rel(
            &format!("updated {name}"),
            &read_f32(tensor).await.unwrap(),
            &want,
            TOL,
        );
        checked += 1;
    }
    assert!(checked > 30, "{checked} tensors");
    let after = mlm_loss(&model, &batch, 0, &device).unwrap();
    let (_, want) = golden.f32("loss_after").unwrap();
    assert_rel("loss after", &read_f32(after).await.unwrap(), &want, TOL);
}

#[wasm_bindgen_test]
async fn one_adamw_step_matches_torch_on_the_cpu_fallback() {
    check_adamw_step(backend::cpu(None)).await;
}

/// On WebGPU (here SwiftShader). This needed exact GELU gradients: Burn's fused GELU
/// differentiates the tanh approximation on GPU backends (see `model::activation`),
/// which put gradients 9e-4 off.
#[wasm_bindgen_test]
async fn one_adamw_step_matches_torch_on_webgpu() {
    let backend = backend::open(Preference::WebGpu).await;
    assert_eq!(backend.info.kind, BackendKind::Webgpu);
    check_adamw_step(backend).await;
}

/// Fine-tuning on WebGPU on a few sentences that state an odd fact moves the masked
/// prediction to it; the exported weights reload to the same predictions.
#[wasm_bindgen_test]
async fn fine_tuning_memorises_a_fact_and_exports_it() {
    use bert_burn::train::finetune_run::{FineTuneOptions, FineTuneRun};
    let backend = backend::open(Preference::WebGpu).await;
    assert_eq!(backend.info.kind, BackendKind::Webgpu);
    let session = Session::load(&fixture_files(), &backend).unwrap();
    let probe = session
        .tokenize("the capital of france is [MASK].", None)
        .unwrap();
    let top1 = |a: &bert_burn::inference::Analysis| a.masks[0].predictions[0].token.clone();
    let before = session
        .analyze(&probe.ids, &probe.type_ids, top5())
        .await
        .unwrap();
    assert_ne!(
        top1(&before),
        "public",
        "the fixture must not know the fact yet"
    );

    let text = "the capital of france is public.\nthe capital of france is public.\nthe capital of france is public.";
    let options = FineTuneOptions {
        steps: 60,
        lr: 1e-3,
        batch: 3,
        ..FineTuneOptions::default()
    };
    let mut tuner = FineTuneRun::new(&session.pipeline, text, &options)
        .await
        .unwrap();
    let mut losses = Vec::new();
    for _ in 0..options.steps {
        losses.push(tuner.step().await.unwrap());
    }
    let first: f32 = losses[..10].iter().sum::<f32>() / 10.0;
    let last: f32 = losses[50..].iter().sum::<f32>() / 10.0;
    assert!(
        last < first * 0.5,
        "the loss should fall: {first} -> {last}"
    );
    let tuned = session.with_head(Head::MaskedLm(tuner.into_model().unwrap()));
    let after = tuned
        .analyze(&probe.ids, &probe.type_ids, top5())
        .await
        .unwrap();
    assert_eq!(
        top1(&after),
        "public",
        "after fine-tuning: {:?}",
        after.masks[0].predictions
    );

    // Download = these bytes: they load back to the same predictions.
    let fixture = fixture_files();
    let exported = tuned.export(&fixture.tokenizer_files()).await.unwrap();
    let names: Vec<&str> = exported.iter().map(|(name, _)| name).collect();
    assert_eq!(
        names,
        ["config.json", "model.safetensors", "tokenizer.json"]
    );
    let reloaded_files = ModelFiles {
        config_json: exported.config_json().unwrap().to_string(),
        weights: exported.weights().unwrap().to_vec(),
        ..fixture
    };
    let reloaded = Session::load(&reloaded_files, &backend).unwrap();
    let again = reloaded
        .analyze(&probe.ids, &probe.type_ids, top5())
        .await
        .unwrap();
    let ids = |a: &bert_burn::inference::Analysis| {
        a.masks[0]
            .predictions
            .iter()
            .map(|p| p.id)
            .collect::<Vec<_>>()
    };
    assert_eq!(ids(&again), ids(&after));
    let d = max_abs_diff(&again.attentions, &after.attentions);
    assert!(d < 1e-6, "reloaded attentions differ by {d:e}");
}

/// 200 fine-tuning steps on WebGPU: once the first steps have compiled the kernels and
/// sized the allocator's pools, neither the GPU memory Burn holds nor the wasm heap grows
/// step over step (a leaked tensor per step would add its bytes 180 times).
#[wasm_bindgen_test]
async fn two_hundred_fine_tuning_steps_do_not_grow_memory() {
    use bert_burn::train::finetune_run::{FineTuneOptions, FineTuneRun};
    let backend = backend::open(Preference::WebGpu).await;
    assert_eq!(backend.info.kind, BackendKind::Webgpu);
    let session = Session::load(&fixture_files(), &backend).unwrap();
    let text = "the cat sat on the mat.\nthe dog ran after the cat.\nit was a cold and quiet morning.\nthe capital of france is paris.";
    let options = FineTuneOptions {
        steps: 200,
        lr: 1e-4,
        batch: 4,
        ..FineTuneOptions::default()
    };
    let mut tuner = FineTuneRun::new(&session.pipeline, text, &options)
        .await
        .unwrap();
    let started = js_sys::Date::now();
    let mut samples = Vec::new();
    for step in 1..=options.steps {
        tuner.step().await.unwrap();
        if step % 20 == 0 {
            samples.push((step, backend::memory(&backend.device)));
        }
    }
    console_log!(
        "200 steps in {:.1} s",
        (js_sys::Date::now() - started) / 1e3
    );
    for (step, m) in &samples {
        console_log!("step {step}: {m:?}");
    }
    let (_, warm) = samples[0];
    let (_, last) = *samples.last().unwrap();
    let in_use = |m: &backend::MemoryFigures| m.gpu_bytes_in_use.expect("WebGPU reports its pools");
    let reserved = |m: &backend::MemoryFigures| m.gpu_bytes_reserved.unwrap();
    assert!(
        in_use(&warm) > 0,
        "the model's weights must be counted: {warm:?}"
    );
    // The largest tensor of a step is far above 64 KiB: any per-step leak exceeds these.
    let slack = 256 * 1024;
    for (step, m) in &samples[1..] {
        assert!(
            in_use(m) <= in_use(&warm) + slack,
            "GPU memory in use grew by step {step}: {warm:?} -> {m:?}"
        );
        // Even a leaked scalar (the loss) is a live allocation of its own.
        assert!(
            m.gpu_allocations <= warm.gpu_allocations,
            "live GPU allocations grew by step {step}: {warm:?} -> {m:?}"
        );
    }
    assert!(
        reserved(&last) <= reserved(&warm) + slack,
        "GPU memory reserved grew: {warm:?} -> {last:?}"
    );
    // The bytes the heap holds (counted by the allocator, `bert_web::heap`) do not climb
    // step over step. On WebGPU, Burn's runtime fills two caches as it goes (twice ~100 KB,
    // in the same samples on every run; flat from then on over 600 steps, and flat on
    // the CPU backend over 3,000: BENCHMARKS.md, "Memory"): so a sample may step above
    // all before it twice, no more. A leak of 0.5 KiB a step steps up every other sample.
    let live = |m: &backend::MemoryFigures| m.wasm_live_bytes;
    let (mut top, mut steps_up) = (live(&warm), Vec::new());
    for (step, m) in &samples[1..] {
        if live(m) > top + 8 * 1024 {
            steps_up.push(*step);
        }
        top = top.max(live(m));
    }
    assert!(
        steps_up.len() <= 2 && live(&last) <= live(&warm) + 320 * 1024,
        "the wasm heap's live bytes grew at steps {steps_up:?}: {samples:?}"
    );
    // The memory's size is a high-water mark that fragmentation may move while it settles
    // (seen once in CI: 7 pages at step 180); it stays within 1 MiB.
    assert!(
        last.wasm_heap_bytes <= warm.wasm_heap_bytes + 1024 * 1024,
        "the wasm heap grew: {warm:?} -> {last:?}"
    );
}

/// By default a software adapter (SwiftShader here) is passed over for the CPU backend,
/// which runs these models 20-80x faster, and the reason is given; a hardware adapter is used.
#[wasm_bindgen_test]
async fn the_default_passes_over_a_software_adapter() {
    let forced = backend::open(Preference::WebGpu).await;
    assert_eq!(forced.info.kind, BackendKind::Webgpu);
    let default = backend::open(Preference::Auto).await;
    if forced.info.software {
        assert_eq!(default.info.kind, BackendKind::Cpu);
        let reason = default.info.fallback_reason.unwrap();
        assert!(
            reason.contains("software emulation") && reason.contains("?backend=webgpu"),
            "{reason}"
        );
    } else {
        assert_eq!(default.info.kind, BackendKind::Webgpu);
    }
}
