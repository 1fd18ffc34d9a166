//! The page <-> worker protocol through JS values, and kernel names.

use super::*;

/// Every message of the page <-> worker protocol survives the trip through JS values,
/// and the envelope carries its id, key and payload.
#[wasm_bindgen_test]
fn protocol_messages_round_trip_through_js() {
    use bert_web::protocol::{
        Event, Failure, Input, Reply, Request, Source, envelope, field, from_js, to_js,
    };
    let tokenizer = BertTokenizer::from_json(TOKENIZER, 64).unwrap();
    let encoding = tokenizer
        .encode("the [MASK] sat", Some("on a mat"))
        .unwrap();
    let requests = vec![
        Request::Load {
            source: Source::Location {
                location: Location::parse("org/name@v1").unwrap(),
            },
            backend: Preference::WebGpu,
            cpu_reason: Some("the WebGPU device was lost".into()),
        },
        Request::Load {
            source: Source::Files,
            backend: Preference::Auto,
            cpu_reason: None,
        },
        Request::Load {
            source: Source::Bytes {
                tokenizer_is_vocab: true,
            },
            backend: Preference::Cpu,
            cpu_reason: None,
        },
        Request::Tokenize {
            text: "a [MASK] ü 🤗".into(),
            text_b: Some("b".into()),
        },
        Request::Analyze {
            input: Input::Ids {
                ids: vec![2, 4, 3],
                type_ids: vec![0, 0, 0],
            },
            options: bert_burn::inference::AnalyzeOptions {
                top_k: 3,
                by_layer: false,
                words_only: false,
            },
        },
        Request::Analyze {
            input: Input::Text {
                text: "a [MASK] ü 🤗".into(),
                text_b: Some("b".into()),
            },
            options: bert_burn::inference::AnalyzeOptions {
                top_k: 5,
                by_layer: true,
                words_only: true,
            },
        },
        Request::FineTune {
            text: "one\ntwo".into(),
            options: bert_burn::train::finetune_run::FineTuneOptions::default(),
        },
        Request::FillNext {
            text: "the [MASK] sat".into(),
            text_b: None,
        },
        Request::StopRun,
        Request::TrainClassifier {
            examples: "positive: a fine day\nnegative\ta sad day".into(),
            options: bert_burn::train::classifier_run::ClassifierOptions {
                warmup: Some(3),
                ..Default::default()
            },
        },
        Request::Classify {
            text: "what a day".into(),
            text_b: None,
        },
        Request::ExportClassifier,
        Request::Reset,
        Request::Export,
        #[cfg(feature = "testing")]
        Request::LoseDeviceForTesting,
        #[cfg(feature = "testing")]
        Request::CrashForTesting,
    ];
    for request in requests {
        let back: Request = from_js(to_js(&request).unwrap()).unwrap();
        assert_eq!(back, request);
    }
    let replies = vec![
        Reply::Analysis {
            encoding: None,
            masks: vec![],
            layers: 2,
            heads: 4,
            seq: 7,
            kernels: 0,
            kernel_names: vec![],
            reads: 1,
        },
        Reply::Analysis {
            encoding: Some(encoding.clone()),
            masks: vec![],
            layers: 2,
            heads: 4,
            seq: 7,
            kernels: 90,
            kernel_names: vec!["matmul ×90".into()],
            reads: 1,
        },
        Reply::Exported {
            files: vec!["config.json".into(), "vocab.txt".into()],
            weights_bytes: 1 << 20,
            finetuned: true,
        },
        Reply::Filled {
            step: None,
            encoding: encoding.clone(),
        },
        Reply::Classified {
            task: bert_burn::Task::Token,
            tokens: vec!["[CLS]".into(), "ada".into()],
            labels: vec![],
            token_labels: vec![bert_burn::inference::TokenLabel {
                token: "ada".into(),
                label: "B-PER".into(),
                id: 1,
                probability: 0.75,
            }],
            layers: 2,
            heads: 4,
            seq: 2,
        },
        Reply::ClassifierTrained(bert_web::protocol::ClassifierSummary {
            labels: vec!["positive".into(), "negative".into()],
            train_examples: 32,
            held_out: 8,
            steps_done: 60,
            stopped: false,
            seconds: 9.5,
            accuracy: 0.75,
            losses: vec![0.7, 0.5],
        }),
        Reply::Done,
        #[cfg(feature = "testing")]
        Reply::DeviceDestroyed { destroyed: true },
    ];
    for reply in replies {
        assert_eq!(from_js::<Reply>(to_js(&reply).unwrap()).unwrap(), reply);
    }
    let event = Event::Download {
        file: "model.safetensors".into(),
        done: 10.0,
        total: None,
    };
    assert_eq!(from_js::<Event>(to_js(&event).unwrap()).unwrap(), event);
    let step = Event::ClassifierStep(bert_web::protocol::ClassifierStepReport {
        step: 5,
        steps: 60,
        loss: 0.5,
        accuracy: Some(0.875),
        step_ms: 150.0,
    });
    assert_eq!(from_js::<Event>(to_js(&step).unwrap()).unwrap(), step);
    let failure = Failure {
        message: "lost".into(),
        device_lost: true,
    };
    let payload = js_sys::Float32Array::from(&[1.0f32, 2.0][..]);
    let message = envelope(7, "error", &to_js(&failure).unwrap(), Some(&payload));
    assert_eq!(field(&message, "id").and_then(|v| v.as_f64()), Some(7.0));
    assert_eq!(
        from_js::<Failure>(field(&message, "error").unwrap()).unwrap(),
        failure
    );
    assert!(
        field(&message, "payload")
            .unwrap()
            .is_instance_of::<js_sys::Float32Array>()
    );
    assert!(field(&message, "reply").is_none());
    // A message that is not a request is refused with a message, not a panic.
    assert!(from_js::<Request>(wasm_bindgen::JsValue::from_str("predict")).is_err());
}

#[wasm_bindgen_test]
fn kernel_names_are_shortened_to_the_kernel_and_its_operation() {
    use bert_web::kernel_count::short_kernel_name;
    assert_eq!(
        short_kernel_name(
            "burn_cubecl::kernel::binary::kernel_binop::KernelBinop<burn_cubecl::kernel::binary::AddOp>"
        ),
        "KernelBinop<AddOp>"
    );
    assert_eq!(
        short_kernel_name("cubecl_std::tensor::contiguous::base::copy_kernel::CopyKernel"),
        "CopyKernel"
    );
    // A long first argument (a whole matmul configuration) is dropped.
    assert_eq!(
        short_kernel_name(
            "m::MatmulEntry<cubek_matmul::multi_level::args::VeryLongArgumentName, x::Y>"
        ),
        "MatmulEntry"
    );
    assert_eq!(short_kernel_name(""), "");
}
