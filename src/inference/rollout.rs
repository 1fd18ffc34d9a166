//! Attention rollout (Abnar & Zuidema, "Quantifying Attention Flow in Transformers",
//! 2020): how much each token's representation after layer `l` draws on each input
//! token, following attention through the layers and the residual connections.

use crate::error::{BertError, Result};

/// Rollout after every layer, `[layer][query][key]` flattened, from attention maps
/// `[layer][head][query][key]`. Each layer's map is the mean of its heads plus the
/// identity (the residual path), rows renormalised: `Â = (A + I) / 2`; then
/// `R₀ = Â₀`, `R_l = Â_l · R_{l−1}`. Every row of every `R_l` sums to one.
pub fn attention_rollout(
    maps: &[f32],
    layers: usize,
    heads: usize,
    seq: usize,
) -> Result<Vec<f32>> {
    let size = seq * seq;
    if heads == 0 || maps.len() != layers * heads * size {
        return Err(BertError::Input(format!(
            "attention maps of {} values do not fit {layers} layers × {heads} heads × {seq}²",
            maps.len()
        )));
    }
    let mut out = Vec::with_capacity(layers * size);
    let mut rollout: Vec<f64> = Vec::new();
    for layer in 0..layers {
        let mut a = vec![0f64; size];
        for head in 0..heads {
            let map = &maps[(layer * heads + head) * size..][..size];
            for (x, &m) in a.iter_mut().zip(map) {
                *x += m as f64 / heads as f64;
            }
        }
        for (q, row) in a.chunks_mut(seq).enumerate() {
            row[q] += 1.0;
            let sum: f64 = row.iter().sum();
            row.iter_mut()
                .for_each(|x| *x /= sum.max(f64::MIN_POSITIVE));
        }
        rollout = if layer == 0 {
            a
        } else {
            // R_l = Â_l · R_{l-1}
            let mut next = vec![0f64; size];
            for q in 0..seq {
                for j in 0..seq {
                    let w = a[q * seq + j];
                    if w != 0.0 {
                        let (src, dst) = (&rollout[j * seq..][..seq], &mut next[q * seq..][..seq]);
                        dst.iter_mut().zip(src).for_each(|(d, s)| *d += w * s);
                    }
                }
            }
            next
        };
        out.extend(rollout.iter().map(|&x| x as f32));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::attention_rollout;

    #[test]
    fn rollout_follows_attention_and_the_residual_through_the_layers() {
        // Two tokens, one head: layer 0 attends token 0 -> 1 fully, token 1 -> itself;
        // layer 1 the reverse.
        let maps = [0.0, 1.0, 0.0, 1.0, /* layer 1 */ 1.0, 0.0, 1.0, 0.0];
        let r = attention_rollout(&maps, 2, 1, 2).unwrap();
        // Â₀ = [[.5,.5],[0,1]], Â₁ = [[1,0],[.5,.5]]; R₁ = Â₁·Â₀ = [[.5,.5],[.25,.75]].
        let want = [0.5, 0.5, 0.0, 1.0, 0.5, 0.5, 0.25, 0.75];
        for (a, b) in r.iter().zip(want) {
            assert!((a - b).abs() < 1e-6, "{r:?}");
        }
        // Heads are averaged; every row sums to one.
        let two_heads = [1.0, 0.0, 1.0, 0.0, 0.0, 1.0, 0.0, 1.0];
        let r = attention_rollout(&two_heads, 1, 2, 2).unwrap();
        assert_eq!(r, vec![0.75, 0.25, 0.25, 0.75]);
        assert!(attention_rollout(&two_heads, 2, 2, 2).is_err());
    }
}
