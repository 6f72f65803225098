//! Line charts as inline SVG, written by hand: no plotting library, no
//! fonts to embed, nothing fetched. Text is left to the browser's default
//! sans-serif font, and label widths are estimated from character counts
//! to keep the legend and the axes from overlapping.

use std::fmt::Write;

use hotkeys_contract::size::format_size;
use hotkeys_contract::timestamp::format_rfc3339;

use crate::escape::html;

/// How values map to positions.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Scale {
    Linear,
    /// Base-10 logarithmic; values must be positive.
    Log,
}

/// How tick values are written.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Ticks {
    /// Plain counts: 1, 10, 1k, 10k, 1M.
    Count,
    /// Fractions shown as percentages.
    Percent,
    /// Bytes: 1 KiB, 64 MiB.
    Bytes,
    /// Microseconds shown as milliseconds or seconds.
    Micros,
    /// Unix seconds shown as UTC dates and times.
    Time,
    /// x = -log10(1 - p): 0 → 0%, 1 → 90%, 2 → 99%, 3 → 99.9%.
    Nines,
}

/// One axis.
#[derive(Clone, Debug)]
pub struct Axis {
    pub label: String,
    pub scale: Scale,
    pub ticks: Ticks,
    pub min: f64,
    pub max: f64,
}

/// How a series is drawn.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Style {
    Solid,
    Dashed,
    /// A dot per point and no line: for a few meaningful points.
    Dots,
}

/// One line (or set of dots).
#[derive(Clone, Debug)]
pub struct Series {
    pub name: String,
    pub points: Vec<(f64, f64)>,
    pub style: Style,
}

/// A chart with one or more lines.
#[derive(Clone, Debug)]
pub struct Chart {
    pub title: String,
    pub x: Axis,
    pub y: Axis,
    pub series: Vec<Series>,
}

const WIDTH: f64 = 900.0;
const HEIGHT: f64 = 330.0;
const LEFT: f64 = 78.0;
const RIGHT: f64 = 24.0;
const BOTTOM: f64 = 52.0;
const FONT: f64 = 13.0;
/// Average glyph width of a sans-serif font at [`FONT`], a little generous.
const CHAR_WIDTH: f64 = 7.4;

/// Colours that stay apart for the common kinds of colour blindness, in
/// the order lines get them.
pub const PALETTE: [&str; 7] = [
    "#0072b2", "#d55e00", "#009e73", "#cc79a7", "#e69f00", "#56b4e9", "#000000",
];

impl Axis {
    fn position(&self, v: f64, from: f64, to: f64) -> f64 {
        let (lo, hi, v) = match self.scale {
            Scale::Linear => (self.min, self.max, v),
            Scale::Log => (
                self.min.max(f64::MIN_POSITIVE).log10(),
                self.max.max(f64::MIN_POSITIVE).log10(),
                v.max(f64::MIN_POSITIVE).log10(),
            ),
        };
        let t = if hi > lo { (v - lo) / (hi - lo) } else { 0.5 };
        from + t.clamp(0.0, 1.0) * (to - from)
    }

    /// Tick values inside the range.
    fn tick_values(&self) -> Vec<f64> {
        match (self.scale, self.ticks) {
            (_, Ticks::Time) => time_ticks(self.min, self.max),
            (Scale::Log, Ticks::Bytes) => {
                // Powers of two, thinned to at most eight.
                let lo = self.min.max(1.0).log2().ceil() as i32;
                let hi = self.max.max(1.0).log2().floor() as i32;
                let step = ((hi - lo) / 7 + 1).max(1);
                let step = [1, 2, 5, 10]
                    .into_iter()
                    .find(|&s| s >= step)
                    .unwrap_or(step);
                (lo..=hi)
                    .filter(|e| e % step == 0)
                    .map(|e| 2f64.powi(e))
                    .collect()
            }
            (Scale::Log, _) => {
                let lo = self.min.max(f64::MIN_POSITIVE).log10().floor() as i32;
                let hi = self.max.max(f64::MIN_POSITIVE).log10().ceil() as i32;
                let mut v = Vec::new();
                let few_decades = hi - lo <= 2;
                for e in lo..=hi {
                    let base = 10f64.powi(e);
                    let multiples: &[f64] = if few_decades {
                        &[1.0, 2.0, 5.0]
                    } else {
                        &[1.0]
                    };
                    for m in multiples {
                        let x = base * m;
                        if x >= self.min * 0.999 && x <= self.max * 1.001 {
                            v.push(x);
                        }
                    }
                }
                v
            }
            (Scale::Linear, Ticks::Nines) => (self.min.ceil() as i64..=self.max.floor() as i64)
                .map(|n| n as f64)
                .collect(),
            (Scale::Linear, _) => linear_ticks(self.min, self.max),
        }
    }

    fn format(&self, v: f64, step: f64) -> String {
        match self.ticks {
            Ticks::Count => format_count(v),
            Ticks::Percent => {
                if step < 0.01 {
                    format!("{:.1}%", v * 100.0)
                } else {
                    format!("{:.0}%", v * 100.0)
                }
            }
            Ticks::Bytes => format_size(v.max(0.0) as u64).replace(".0 ", " "),
            Ticks::Micros => format_micros(v),
            Ticks::Time => {
                let text = format_rfc3339((v as i64) * 1_000_000);
                // 2024-05-01T12:00:00Z → "05-01 12:00", or the date alone
                // when ticks are whole days.
                if step >= 86_400.0 {
                    text[..10].to_string()
                } else {
                    format!("{} {}", &text[5..10], &text[11..16])
                }
            }
            Ticks::Nines => {
                let p = 100.0 * (1.0 - 10f64.powf(-v));
                let decimals = (v - 2.0).max(0.0).round() as usize;
                format!("{p:.decimals$}%")
            }
        }
    }
}

/// 1, 2 or 5 times a power of ten, about six ticks over the range.
fn linear_ticks(min: f64, max: f64) -> Vec<f64> {
    // Also catches NaN bounds.
    if max.partial_cmp(&min) != Some(std::cmp::Ordering::Greater) {
        return vec![min];
    }
    let rough = (max - min) / 6.0;
    let power = 10f64.powf(rough.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * power)
        .find(|s| *s >= rough)
        .unwrap_or(10.0 * power);
    let mut v = Vec::new();
    let mut x = (min / step).ceil() * step;
    while x <= max + step * 1e-9 {
        v.push(if x.abs() < step * 1e-9 { 0.0 } else { x });
        x += step;
    }
    v
}

/// Ticks at round UTC times, about six over the range (seconds).
fn time_ticks(min: f64, max: f64) -> Vec<f64> {
    const STEPS: [f64; 11] = [
        60.0, 300.0, 900.0, 1800.0, 3600.0, 10_800.0, 21_600.0, 43_200.0, 86_400.0, 172_800.0,
        604_800.0,
    ];
    let step = STEPS
        .iter()
        .copied()
        .find(|s| (max - min) / s <= 6.5)
        .unwrap_or_else(|| ((max - min) / 8.0 / 86_400.0).ceil() * 86_400.0);
    let mut v = Vec::new();
    let mut x = (min / step).ceil() * step;
    while x <= max {
        v.push(x);
        x += step;
    }
    v
}

/// `1`, `950`, `12k`, `1.5M`.
pub fn format_count(v: f64) -> String {
    let a = v.abs();
    let (n, suffix) = if a >= 1e9 {
        (v / 1e9, "G")
    } else if a >= 1e6 {
        (v / 1e6, "M")
    } else if a >= 1e3 {
        (v / 1e3, "k")
    } else {
        (v, "")
    };
    if (n - n.round()).abs() < 1e-9 {
        format!("{}{suffix}", n.round() as i64)
    } else if n.abs() >= 10.0 {
        format!("{n:.0}{suffix}")
    } else {
        format!("{n:.1}{suffix}")
    }
}

/// Microseconds as `850µs`, `12ms`, `1.5s`.
pub fn format_micros(us: f64) -> String {
    if us < 1_000.0 {
        format!("{}µs", format_count(us))
    } else if us < 1_000_000.0 {
        format!("{}ms", format_count(us / 1e3))
    } else {
        format!("{}s", format_count(us / 1e6))
    }
}

fn text_width(s: &str) -> f64 {
    s.chars().count() as f64 * CHAR_WIDTH
}

/// Lays the legend out in rows; returns each entry's position and the
/// number of rows.
fn legend_layout(names: &[&str], left: f64, right: f64) -> (Vec<(f64, usize)>, usize) {
    let mut out = Vec::new();
    let (mut x, mut row) = (left, 0usize);
    for name in names {
        let w = 34.0 + text_width(name) + 18.0;
        if x + w > right && x > left {
            row += 1;
            x = left;
        }
        out.push((x, row));
        x += w;
    }
    (out, row + 1)
}

impl Chart {
    /// The chart as an `<svg>` element. `id` names it for links and tests.
    pub fn to_svg(&self, id: &str) -> String {
        let names: Vec<&str> = self.series.iter().map(|s| s.name.as_str()).collect();
        let (legend, rows) = legend_layout(&names, LEFT, WIDTH - RIGHT);
        let top = 40.0 + rows as f64 * 20.0;
        let (x0, x1) = (LEFT, WIDTH - RIGHT);
        let (y0, y1) = (HEIGHT - BOTTOM, top);
        let mut s = String::new();
        let _ = write!(
            s,
            r#"<svg id="{id}" class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}" role="img" aria-label="{title}" font-family="sans-serif" font-size="{FONT}">"#,
            id = html(id),
            title = html(&self.title),
        );
        let _ = write!(s, "<title>{}</title>", html(&self.title));
        let _ = write!(
            s,
            r##"<text x="{LEFT}" y="20" font-size="15" font-weight="bold" fill="#222">{}</text>"##,
            html(&self.title)
        );

        // Grid and ticks.
        let xt = self.x.tick_values();
        let yt = self.y.tick_values();
        let xstep = step_of(&xt);
        let ystep = step_of(&yt);
        let mut last_label_end = f64::NEG_INFINITY;
        for &v in &xt {
            let px = self.x.position(v, x0, x1);
            let _ = write!(
                s,
                r##"<line x1="{px:.1}" y1="{y1:.1}" x2="{px:.1}" y2="{y0:.1}" stroke="#e4e4e4"/>"##
            );
            let label = self.x.format(v, xstep);
            let half = text_width(&label) / 2.0;
            // Labels stay inside the picture: the last ones end at the
            // right edge instead of being cut.
            let center = px.min(WIDTH - 4.0 - half).max(half + 4.0);
            // Skip a label that would run into the previous one.
            if center - half > last_label_end + 6.0 {
                let _ = write!(
                    s,
                    r##"<text x="{center:.1}" y="{:.1}" text-anchor="middle" fill="#333">{}</text>"##,
                    y0 + 18.0,
                    html(&label)
                );
                last_label_end = center + half;
            }
        }
        for &v in &yt {
            let py = self.y.position(v, y0, y1);
            let _ = write!(
                s,
                r##"<line x1="{x0:.1}" y1="{py:.1}" x2="{x1:.1}" y2="{py:.1}" stroke="#e4e4e4"/>"##
            );
            let _ = write!(
                s,
                r##"<text x="{:.1}" y="{:.1}" text-anchor="end" fill="#333">{}</text>"##,
                x0 - 8.0,
                py + 4.0,
                html(&self.y.format(v, ystep))
            );
        }
        // Axes and their labels.
        let _ = write!(
            s,
            r##"<line x1="{x0}" y1="{y0}" x2="{x1}" y2="{y0}" stroke="#444"/><line x1="{x0}" y1="{y0}" x2="{x0}" y2="{y1}" stroke="#444"/>"##
        );
        let _ = write!(
            s,
            r##"<text x="{:.1}" y="{:.1}" text-anchor="middle" fill="#222">{}</text>"##,
            (x0 + x1) / 2.0,
            HEIGHT - 10.0,
            html(&self.x.label)
        );
        let _ = write!(
            s,
            r##"<text transform="translate(16 {:.1}) rotate(-90)" text-anchor="middle" fill="#222">{}</text>"##,
            (y0 + y1) / 2.0,
            html(&self.y.label)
        );

        // Lines, clipped to the plot area.
        let _ = write!(
            s,
            r#"<clipPath id="{id}-plot"><rect x="{x0}" y="{:.1}" width="{:.1}" height="{:.1}"/></clipPath><g clip-path="url(#{id}-plot)">"#,
            y1 - 4.0,
            x1 - x0,
            y0 - y1 + 8.0,
            id = html(id),
        );
        let last = self.series.len().saturating_sub(1).max(1) as f64;
        for (i, series) in self.series.iter().enumerate() {
            let color = PALETTE[i % PALETTE.len()];
            // Earlier lines are wider, so a later line drawn over an equal
            // one leaves it visible on both sides.
            let width = 2.0 + 2.4 * (last - i as f64).max(0.0) / last;
            let points: Vec<(f64, f64)> = series
                .points
                .iter()
                .filter(|(x, y)| x.is_finite() && y.is_finite())
                .map(|&(x, y)| (self.x.position(x, x0, x1), self.y.position(y, y0, y1)))
                .collect();
            if points.len() > 1 && series.style != Style::Dots {
                let mut d = String::new();
                for (j, (px, py)) in points.iter().enumerate() {
                    let _ = write!(d, "{}{px:.1},{py:.1}", if j == 0 { "M" } else { " L" });
                }
                let dash = if series.style == Style::Dashed {
                    r#" stroke-dasharray="6 4""#
                } else {
                    ""
                };
                let _ = write!(
                    s,
                    r#"<path d="{d}" fill="none" stroke="{color}" stroke-width="{width:.1}"{dash}/>"#
                );
            }
            if series.style == Style::Dots || points.len() == 1 {
                for (px, py) in &points {
                    let _ = write!(
                        s,
                        r#"<circle cx="{px:.1}" cy="{py:.1}" r="3.5" fill="{color}"/>"#
                    );
                }
            }
        }
        s.push_str("</g>");

        // Legend above the plot.
        for (i, ((x, row), series)) in legend.iter().zip(&self.series).enumerate() {
            let color = PALETTE[i % PALETTE.len()];
            let y = 38.0 + *row as f64 * 20.0;
            let _ = match series.style {
                Style::Dots => write!(
                    s,
                    r#"<circle cx="{:.1}" cy="{:.1}" r="3.5" fill="{color}"/>"#,
                    x + 13.0,
                    y - 4.0
                ),
                style => write!(
                    s,
                    r#"<line x1="{x:.1}" y1="{:.1}" x2="{:.1}" y2="{:.1}" stroke="{color}" stroke-width="2"{}/>"#,
                    y - 4.0,
                    x + 26.0,
                    y - 4.0,
                    if style == Style::Dashed {
                        r#" stroke-dasharray="6 4""#
                    } else {
                        ""
                    }
                ),
            };
            let _ = write!(
                s,
                r##"<text x="{:.1}" y="{y:.1}" fill="#222">{}</text>"##,
                x + 32.0,
                html(&series.name)
            );
        }
        s.push_str("</svg>");
        s
    }
}

fn step_of(ticks: &[f64]) -> f64 {
    match ticks {
        [a, b, ..] => (b - a).abs(),
        _ => 1.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn axis(scale: Scale, ticks: Ticks, min: f64, max: f64) -> Axis {
        Axis {
            label: "x".into(),
            scale,
            ticks,
            min,
            max,
        }
    }

    fn labels(a: &Axis) -> Vec<String> {
        let t = a.tick_values();
        let step = step_of(&t);
        t.iter().map(|&v| a.format(v, step)).collect()
    }

    #[test]
    fn ticks_are_round_and_readable() {
        assert_eq!(
            labels(&axis(Scale::Linear, Ticks::Percent, 0.0, 1.0)),
            ["0%", "20%", "40%", "60%", "80%", "100%"]
        );
        assert_eq!(
            labels(&axis(Scale::Log, Ticks::Count, 1.0, 100_000.0)),
            ["1", "10", "100", "1k", "10k", "100k"]
        );
        assert_eq!(
            labels(&axis(Scale::Log, Ticks::Count, 1.0, 50.0)),
            ["1", "2", "5", "10", "20", "50"]
        );
        assert_eq!(
            labels(&axis(Scale::Linear, Ticks::Nines, 0.0, 3.0)),
            ["0%", "90%", "99%", "99.9%"]
        );
        let bytes = labels(&axis(
            Scale::Log,
            Ticks::Bytes,
            1024.0,
            1024.0 * 1024.0 * 1024.0,
        ));
        assert!(bytes.len() <= 8, "{bytes:?}");
        assert_eq!(bytes[0], "1 KiB");
        assert_eq!(bytes.last().unwrap(), "1 GiB");
        // Four days: one tick a day, as dates.
        let may1 = 1_714_521_600.0;
        assert_eq!(
            labels(&axis(
                Scale::Linear,
                Ticks::Time,
                may1,
                may1 + 4.0 * 86_400.0
            )),
            [
                "2024-05-01",
                "2024-05-02",
                "2024-05-03",
                "2024-05-04",
                "2024-05-05"
            ]
        );
        assert_eq!(
            labels(&axis(Scale::Linear, Ticks::Time, may1, may1 + 3600.0))[..2],
            ["05-01 00:00", "05-01 00:15"]
        );
        assert_eq!(format_micros(850.0), "850µs");
        assert_eq!(format_micros(12_000.0), "12ms");
        assert_eq!(format_micros(1_500_000.0), "1.5s");
    }

    #[test]
    fn svg_is_self_contained_and_escaped() {
        let chart = Chart {
            title: "a <b> & c".into(),
            x: axis(Scale::Linear, Ticks::Count, 0.0, 10.0),
            y: axis(Scale::Linear, Ticks::Percent, 0.0, 1.0),
            series: vec![Series {
                name: "</svg><script>".into(),
                points: vec![(0.0, 0.0), (10.0, 1.0), (5.0, f64::NAN)],
                style: Style::Dots,
            }],
        };
        let svg = chart.to_svg("c1");
        assert!(svg.starts_with("<svg id=\"c1\""));
        assert!(svg.ends_with("</svg>"));
        assert_eq!(svg.matches("</svg>").count(), 1);
        assert!(!svg.contains("<script"));
        assert!(svg.contains("a &lt;b&gt; &amp; c"));
        assert!(!svg.contains("http"));
        // Two dots and the legend's.
        assert_eq!(svg.matches("<circle").count(), 3);
        assert!(!svg.contains("<path"));
    }

    #[test]
    fn long_legends_wrap() {
        let names = ["a long series name number one"; 6];
        let (pos, rows) = legend_layout(&names, 0.0, 600.0);
        assert!(rows >= 2);
        assert!(pos.iter().all(|(x, _)| *x < 600.0));
    }
}
