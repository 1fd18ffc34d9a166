//! Attention heatmaps on a canvas: one token×token map (a head, or the mean over a
//! layer's heads), rows are queries, columns are keys, darker is more attention.

use bert_burn::inference::Analysis;
use wasm_bindgen::JsCast;
use web_sys::{CanvasRenderingContext2d, HtmlCanvasElement};

/// The `[query][key]` map of `layer`, for one head or averaged over all of them.
pub fn matrix(a: &Analysis, layer: usize, head: Option<usize>) -> Vec<f32> {
    let n = a.seq * a.seq;
    let at = |h: usize| &a.attentions[(layer * a.heads + h) * n..(layer * a.heads + h + 1) * n];
    match head {
        Some(h) => at(h).to_vec(),
        None => {
            let mut mean = vec![0.0; n];
            for h in 0..a.heads {
                for (m, v) in mean.iter_mut().zip(at(h)) {
                    *m += v / a.heads as f32;
                }
            }
            mean
        }
    }
}

/// What to draw: which tokens (rows and columns) are shown, their labels, the token
/// under the pointer and where the second segment starts.
pub struct View<'a> {
    pub seq: usize,
    pub visible: &'a [usize],
    pub labels: &'a [String],
    pub hover: Option<usize>,
    pub boundary: Option<usize>,
    /// Axis labels (the large map) or none (thumbnails).
    pub with_labels: bool,
}

const LABEL_MARGIN: f64 = 84.0;

fn margin(with_labels: bool) -> f64 {
    if with_labels { LABEL_MARGIN } else { 0.0 }
}

fn context(canvas: &HtmlCanvasElement) -> Option<CanvasRenderingContext2d> {
    canvas.get_context("2d").ok()??.dyn_into().ok()
}

/// Maps a probability (scaled to the map's largest shown value) to a blue ramp.
fn color(v: f32) -> [u8; 3] {
    let t = v.clamp(0.0, 1.0).powf(0.7);
    let lerp = |a: f32, b: f32| (a + (b - a) * t).round() as u8;
    [lerp(247.0, 8.0), lerp(251.0, 48.0), lerp(255.0, 107.0)]
}

/// The cells as one image (`side` × `side` pixels), put on the canvas in one call: a
/// 128-token map is 16,384 cells, too many to fill one by one without holding up the page.
fn cells_image(
    map: &[f32],
    view: &View<'_>,
    cell: f64,
    max: f32,
) -> Option<(web_sys::ImageData, f64)> {
    let n = view.visible.len();
    let side = (cell * n as f64).round().max(1.0) as usize;
    let colors: Vec<[u8; 3]> = view
        .visible
        .iter()
        .flat_map(|&q| {
            view.visible
                .iter()
                .map(move |&k| color(map[q * view.seq + k] / max))
        })
        .collect();
    let index = |p: usize| ((p as f64 / cell) as usize).min(n - 1);
    let columns: Vec<usize> = (0..side).map(index).collect();
    let mut pixels = vec![255u8; side * side * 4];
    for (y, row) in pixels.chunks_exact_mut(side * 4).enumerate() {
        let r = index(y);
        for (x, px) in row.chunks_exact_mut(4).enumerate() {
            px[..3].copy_from_slice(&colors[r * n + columns[x]]);
        }
    }
    let image = web_sys::ImageData::new_with_u8_clamped_array_and_sh(
        wasm_bindgen::Clamped(&pixels),
        side as u32,
        side as u32,
    )
    .ok()?;
    Some((image, side as f64))
}

/// Draws `map`; returns the largest value shown (the darkest colour), for the legend.
pub fn draw(canvas: &HtmlCanvasElement, map: &[f32], view: &View<'_>) -> f32 {
    let Some(ctx) = context(canvas) else {
        return 0.0;
    };
    let (w, h) = (canvas.width() as f64, canvas.height() as f64);
    ctx.set_fill_style_str("#ffffff");
    ctx.fill_rect(0.0, 0.0, w, h);
    let n = view.visible.len();
    if n == 0 {
        return 0.0;
    }
    let m = margin(view.with_labels);
    let cell = ((w.min(h) - m) / n as f64).max(1.0);
    let max = view
        .visible
        .iter()
        .flat_map(|&q| view.visible.iter().map(move |&k| map[q * view.seq + k]))
        .fold(f32::MIN_POSITIVE, f32::max);
    let Some((image, side)) = cells_image(map, view, cell, max) else {
        return max;
    };
    let _ = ctx.put_image_data(&image, m, m);
    if let Some(b) = view
        .boundary
        .and_then(|b| view.visible.iter().position(|&i| i >= b))
    {
        ctx.set_stroke_style_str("#d62728");
        ctx.set_line_width(2.0);
        ctx.stroke_rect(m + b as f64 * cell, m, 0.0, side);
        ctx.stroke_rect(m, m + b as f64 * cell, side, 0.0);
    }
    if let Some(r) = view
        .hover
        .and_then(|t| view.visible.iter().position(|&i| i == t))
    {
        ctx.set_stroke_style_str("#ff7f0e");
        ctx.set_line_width(2.0);
        ctx.stroke_rect(m, m + r as f64 * cell, side, cell);
        ctx.stroke_rect(m + r as f64 * cell, m, cell, side);
    }
    if view.with_labels {
        draw_labels(&ctx, view, m, cell);
    }
    max
}

fn draw_labels(ctx: &CanvasRenderingContext2d, view: &View<'_>, m: f64, cell: f64) {
    let font = cell.clamp(6.0, 13.0);
    ctx.set_font(&format!("{font}px system-ui, sans-serif"));
    ctx.set_fill_style_str("#222");
    let fit = |s: &str| s.chars().take(12).collect::<String>();
    ctx.set_text_align("right");
    ctx.set_text_baseline("middle");
    for (r, &t) in view.visible.iter().enumerate() {
        let _ = ctx.fill_text(&fit(&view.labels[t]), m - 4.0, m + (r as f64 + 0.5) * cell);
    }
    for (c, &t) in view.visible.iter().enumerate() {
        ctx.save();
        let _ = ctx.translate(m + (c as f64 + 0.5) * cell, m - 4.0);
        let _ = ctx.rotate(-std::f64::consts::FRAC_PI_2);
        ctx.set_text_align("left");
        let _ = ctx.fill_text(&fit(&view.labels[t]), 0.0, 0.0);
        ctx.restore();
    }
}

/// The cell (query, key) under canvas coordinates `(x, y)`, if the pointer is on the map.
pub fn cell_at(
    canvas: &HtmlCanvasElement,
    x: f64,
    y: f64,
    view: &View<'_>,
) -> Option<(usize, usize)> {
    let n = view.visible.len();
    let m = margin(view.with_labels);
    let side = (canvas.width() as f64).min(canvas.height() as f64);
    let cell = ((side - m) / n.max(1) as f64).max(1.0);
    let index = |v: f64| {
        let i = ((v - m) / cell).floor();
        (i >= 0.0 && (i as usize) < n).then_some(i as usize)
    };
    Some((view.visible[index(y)?], view.visible[index(x)?]))
}

/// The token (of those visible) under canvas coordinates `(x, y)`: the row if the
/// pointer is over a row, else the column.
pub fn token_at(canvas: &HtmlCanvasElement, x: f64, y: f64, view: &View<'_>) -> Option<usize> {
    let n = view.visible.len();
    if n == 0 {
        return None;
    }
    let m = margin(view.with_labels);
    let w = canvas.width() as f64;
    let h = canvas.height() as f64;
    let cell = ((w.min(h) - m) / n as f64).max(1.0);
    let index = |v: f64| {
        let i = ((v - m) / cell).floor();
        (i >= 0.0 && (i as usize) < n).then_some(i as usize)
    };
    index(y).or_else(|| index(x)).map(|i| view.visible[i])
}
