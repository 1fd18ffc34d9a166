//! The live loss chart: raw loss per step (light) and its running mean (dark).

use wasm_bindgen::JsCast;
use web_sys::{CanvasRenderingContext2d, HtmlCanvasElement};

pub fn draw_losses(canvas: &HtmlCanvasElement, losses: &[f32], total_steps: usize) {
    let Some(ctx) = canvas
        .get_context("2d")
        .ok()
        .flatten()
        .and_then(|c| c.dyn_into::<CanvasRenderingContext2d>().ok())
    else {
        return;
    };
    let (w, h) = (canvas.width() as f64, canvas.height() as f64);
    ctx.set_fill_style_str("#ffffff");
    ctx.fill_rect(0.0, 0.0, w, h);
    if losses.is_empty() {
        return;
    }
    let (pad_l, pad_r, pad_t, pad_b) = (44.0, 8.0, 8.0, 18.0);
    let max = losses.iter().copied().fold(f32::MIN, f32::max) as f64;
    let min = losses.iter().copied().fold(f32::MAX, f32::min).min(0.0) as f64;
    let span = (max - min).max(1e-6);
    let steps = total_steps.max(losses.len()).max(2) as f64;
    let x = |i: usize| pad_l + (w - pad_l - pad_r) * i as f64 / (steps - 1.0);
    let y = |v: f64| pad_t + (h - pad_t - pad_b) * (1.0 - (v - min) / span);

    ctx.set_fill_style_str("#555");
    ctx.set_font("11px system-ui, sans-serif");
    let _ = ctx.fill_text(&format!("{max:.2}"), 2.0, pad_t + 8.0);
    let _ = ctx.fill_text(&format!("{min:.2}"), 2.0, h - pad_b);
    let _ = ctx.fill_text(&format!("step {}", losses.len()), w - 70.0, h - 4.0);

    let line = |values: &mut dyn Iterator<Item = f64>, color: &str, width: f64| {
        ctx.begin_path();
        ctx.set_stroke_style_str(color);
        ctx.set_line_width(width);
        for (i, v) in values.enumerate() {
            if i == 0 {
                ctx.move_to(x(i), y(v));
            } else {
                ctx.line_to(x(i), y(v));
            }
        }
        ctx.stroke();
    };
    line(&mut losses.iter().map(|&v| v as f64), "#a5b4fc", 1.0);
    let mut mean = 0.0;
    line(
        &mut losses.iter().enumerate().map(|(i, &v)| {
            mean = if i == 0 {
                v as f64
            } else {
                0.8 * mean + 0.2 * v as f64
            };
            mean
        }),
        "#2f5fd0",
        2.0,
    );
}
