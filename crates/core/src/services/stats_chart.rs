//! A webhook's stats drawn as SVG on the server: success rate as bars (green, amber, red; grey
//! where nothing was delivered) above p50/p95 latency as lines. No script and no chart library:
//! the dashboard shows it as an image, with a table of the same figures for screen readers.

use crate::views::WebhookStats;
use std::fmt::Write;

const WIDTH: f64 = 720.0;
const LEFT: f64 = 56.0;
const RIGHT: f64 = 12.0;
const RATE_TOP: f64 = 28.0;
const RATE_HEIGHT: f64 = 90.0;
const LATENCY_TOP: f64 = 160.0;
const LATENCY_HEIGHT: f64 = 90.0;
const HEIGHT: f64 = 290.0;
// The stylesheet's tokens (an image cannot read the page's CSS).
const OK: &str = "#0f7b4d";
const WARN: &str = "#b7791f";
const BAD: &str = "#b42318";
const MUTED: &str = "#5b6470";
const GRID: &str = "#dde1e6";
const ACCENT: &str = "#4f46e5";

fn escaped(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// A bucket's label: its hour (`23:00`) or its day (`12-06`), UTC.
fn label(start: &str, hourly: bool) -> &str {
    if hourly { start.get(11..16).unwrap_or(start) } else { start.get(5..10).unwrap_or(start) }
}

/// A round ceiling for the latency axis.
fn ceiling(max: i64) -> i64 {
    [10, 25, 50, 100, 250, 500, 1000, 2500, 5000].into_iter().find(|&c| max <= c).unwrap_or(5000)
}

pub fn svg(stats: &WebhookStats, webhook_name: &str) -> String {
    let hourly = stats.window == "24h";
    let n = stats.buckets.len().max(1) as f64;
    let slot = (WIDTH - LEFT - RIGHT) / n;
    let span = if hourly { "the last 24 hours, hourly" } else { "the last 30 days, daily" };
    let title = format!("{} — success rate and latency over {span} (UTC)", escaped(webhook_name));
    let mut out = String::new();
    let _ = write!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}" role="img" font-family="system-ui, sans-serif" font-size="11">"#
    );
    let _ = write!(
        out,
        "<title>{title}</title><desc>The same figures are in the table beside the chart.</desc>"
    );
    let _ = write!(out, r#"<rect width="{WIDTH}" height="{HEIGHT}" fill="white"/>"#);
    // Success rate: bars from 0 to 100 %.
    let _ = write!(out, r#"<text x="{LEFT}" y="16" fill="{MUTED}">Success rate</text>"#);
    for (pct, y) in
        [(100, RATE_TOP), (50, RATE_TOP + RATE_HEIGHT / 2.0), (0, RATE_TOP + RATE_HEIGHT)]
    {
        let _ = write!(
            out,
            r#"<line x1="{LEFT}" x2="{}" y1="{y}" y2="{y}" stroke="{GRID}"/><text x="{}" y="{}" text-anchor="end" fill="{MUTED}">{pct}%</text>"#,
            WIDTH - RIGHT,
            LEFT - 6.0,
            y + 4.0
        );
    }
    for (i, b) in stats.buckets.iter().enumerate() {
        let x = LEFT + slot * i as f64 + slot * 0.15;
        let w = slot * 0.7;
        let (height, color) = match b.success_rate {
            Some(rate) => {
                let color = if rate >= 99 {
                    OK
                } else if rate >= 90 {
                    WARN
                } else {
                    BAD
                };
                (RATE_HEIGHT * f64::from(rate.max(2)) / 100.0, color)
            }
            None => (2.0, GRID),
        };
        let _ = write!(
            out,
            r#"<rect x="{x:.1}" y="{:.1}" width="{w:.1}" height="{height:.1}" fill="{color}"/>"#,
            RATE_TOP + RATE_HEIGHT - height
        );
    }
    // Latency: p50 and p95 as lines over the buckets that had requests.
    let max = stats.buckets.iter().filter_map(|b| b.p95_ms).max().unwrap_or(0);
    let top = ceiling(max);
    let _ = write!(
        out,
        r#"<text x="{LEFT}" y="{}" fill="{MUTED}">Latency: <tspan fill="{ACCENT}">p50</tspan> and <tspan fill="{WARN}">p95</tspan> (ms)</text>"#,
        LATENCY_TOP - 12.0
    );
    for (value, y) in [(top, LATENCY_TOP), (0, LATENCY_TOP + LATENCY_HEIGHT)] {
        let _ = write!(
            out,
            r#"<line x1="{LEFT}" x2="{}" y1="{y}" y2="{y}" stroke="{GRID}"/><text x="{}" y="{}" text-anchor="end" fill="{MUTED}">{value}</text>"#,
            WIDTH - RIGHT,
            LEFT - 6.0,
            y + 4.0
        );
    }
    for (pick, color) in [(0, ACCENT), (1, WARN)] {
        let points: Vec<String> = stats
            .buckets
            .iter()
            .enumerate()
            .filter_map(|(i, b)| {
                let ms = if pick == 0 { b.p50_ms } else { b.p95_ms }?;
                let x = LEFT + slot * (i as f64 + 0.5);
                let y = LATENCY_TOP + LATENCY_HEIGHT * (1.0 - ms.min(top) as f64 / top as f64);
                Some(format!("{x:.1},{y:.1}"))
            })
            .collect();
        if points.len() == 1 {
            let (x, y) = points[0].split_once(',').unwrap_or(("0", "0"));
            let _ = write!(out, r#"<circle cx="{x}" cy="{y}" r="3" fill="{color}"/>"#);
        } else if !points.is_empty() {
            let _ = write!(
                out,
                r#"<polyline points="{}" fill="none" stroke="{color}" stroke-width="2"/>"#,
                points.join(" ")
            );
        }
    }
    // Time labels: every sixth hour, or every fifth day.
    let every = if hourly { 6 } else { 5 };
    for (i, b) in stats.buckets.iter().enumerate().filter(|(i, _)| i % every == 0) {
        let x = LEFT + slot * (i as f64 + 0.5);
        let _ = write!(
            out,
            r#"<text x="{x:.1}" y="{}" text-anchor="middle" fill="{MUTED}">{}</text>"#,
            HEIGHT - 18.0,
            label(&b.start, hourly)
        );
    }
    if stats.buckets.iter().all(|b| b.deliveries == 0) {
        let _ = write!(
            out,
            r#"<text x="{}" y="{}" text-anchor="middle" fill="{MUTED}" font-size="13">No deliveries in this window yet</text>"#,
            WIDTH / 2.0,
            RATE_TOP + RATE_HEIGHT / 2.0
        );
    }
    out.push_str("</svg>");
    out
}
