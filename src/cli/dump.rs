//! `bert dump`: input ids, logits, every hidden state and attention map as f32
//! safetensors, for comparing with transformers tensor by tensor.

use std::path::PathBuf;

use anyhow::Context;
use bert_burn::checkpoint::{HostTensor, StoreDtype, write_safetensors};
use bert_burn::inference;

use super::{BackendArg, open};

#[derive(clap::Args)]
pub struct DumpArgs {
    #[arg(long)]
    pub model: PathBuf,
    #[arg(long)]
    pub out: PathBuf,
    #[arg(long)]
    pub pair: Option<String>,
    #[arg(long, value_enum, default_value_t = BackendArg::Cpu)]
    pub backend: BackendArg,
    pub text: String,
}

pub fn run(args: DumpArgs) -> anyhow::Result<()> {
    let p = open(&args.model, args.backend)?;
    let model = p.masked_lm()?;
    let enc = p.tokenizer.encode(&args.text, args.pair.as_deref())?;
    let host = pollster::block_on(inference::forward_host(
        model,
        &enc.ids,
        &enc.type_ids,
        p.tokenizer.pad_id(),
        &p.device,
    ))?;
    let cfg = model.config();
    let (t, h, v) = (enc.len(), cfg.hidden_size, cfg.vocab_size);
    let f32s = |xs: &[u32]| xs.iter().map(|&x| x as f32).collect::<Vec<_>>();
    let tensor =
        |shape: Vec<usize>, values: &[f32]| HostTensor::new(shape, values, StoreDtype::F32);
    let mut tensors = vec![
        ("input_ids".to_string(), tensor(vec![1, t], &f32s(&enc.ids))),
        (
            "token_type_ids".to_string(),
            tensor(vec![1, t], &f32s(&enc.type_ids)),
        ),
        ("logits".to_string(), tensor(vec![1, t, v], &host.logits)),
    ];
    for (i, hs) in host.hidden_states.iter().enumerate() {
        tensors.push((format!("hidden_states.{i}"), tensor(vec![1, t, h], hs)));
    }
    let heads = cfg.num_attention_heads;
    for (i, a) in host.attentions.iter().enumerate() {
        tensors.push((format!("attentions.{i}"), tensor(vec![1, heads, t, t], a)));
    }
    let bytes = write_safetensors(&tensors)?;
    std::fs::write(&args.out, bytes)
        .with_context(|| format!("cannot write {}", args.out.display()))?;
    eprintln!(
        "wrote {} tensors for {t} tokens to {}",
        tensors.len(),
        args.out.display()
    );
    Ok(())
}
