//! Energy charts rendered as self-contained SVG documents.
//!
//! One chart shows, per bucket (an hour, a day or a month), the energy injected into the grid
//! and the energy withdrawn from it as two lines, with the shared energy (the hourly minimum of
//! the two, summed over the bucket — computed by the caller) shaded underneath.
//!
//! The SVG is written by hand rather than with `plotters`. `plotters` does write real `<text>`
//! elements without any font files (with its `ttf`/`ab_glyph` features off it falls back to a
//! crude width estimate), so fonts were not the obstacle; but it places the legend inside the
//! plot (over the data), has no subtitle, thins the x labels without regard to their width and
//! emits coordinates that tests cannot tie back to values. Writing the few elements a chart needs
//! keeps full control of the layout, keeps the scale a pure, tested function ([`nice_ticks`]),
//! and adds no dependency. The text is drawn by whoever displays the SVG (browser, PDF
//! renderer), so the server needs no fonts; text widths are estimated from character counts.
//!
//! Numbers use a no-break space as thousands separator and a point as decimal separator
//! (`12 345.6`), which neither Italian nor English readers misread as the other convention.
use std::fmt::{self, Write};

use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;

/// Energy of one bucket of a chart, in kWh.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EnergyBucket {
    /// What the x axis shows for this bucket, e.g. `14:00`, `31/03` or `Mar 2025`.
    pub label: String,
    pub injected_kwh: Decimal,
    pub withdrawn_kwh: Decimal,
    pub shared_kwh: Decimal,
}

pub const INJECTED_NAME: &str = "Injected";
pub const WITHDRAWN_NAME: &str = "Withdrawn";
pub const SHARED_NAME: &str = "Shared";
pub const NO_DATA_MESSAGE: &str = "No data for this period";

const WIDTH: f64 = 960.0;
const HEIGHT: f64 = 500.0;
const MARGIN: f64 = 24.0;
const PLOT_TOP: f64 = 122.0;
const PLOT_BOTTOM: f64 = HEIGHT - 48.0;
const PLOT_RIGHT: f64 = WIDTH - MARGIN;

const TITLE_SIZE: f64 = 20.0;
const SUBTITLE_SIZE: f64 = 14.0;
const LEGEND_SIZE: f64 = 13.0;
const TICK_SIZE: f64 = 12.0;
/// Average advance of a character, in ems, for common sans-serif fonts (digits are ~0.55–0.64).
const CHAR_EM: f64 = 0.6;
/// Free space kept between two x labels, in pixels.
const LABEL_GAP: f64 = 10.0;
/// Beyond this many buckets the per-bucket hover tooltips are left out to keep the SVG small.
const MAX_TOOLTIPS: usize = 1000;

const FONT_FAMILY: &str = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, 'DejaVu Sans', sans-serif";
const TEXT: &str = "#1f2328";
const MUTED: &str = "#59636e";
const GRID: &str = "#e6e8eb";
const AXIS: &str = "#8c959f";
/// Dark amber (3.2:1 against white), blue and bluish green from the Okabe–Ito palette:
/// distinguishable with the common colour-vision deficiencies, and the shared series is an area
/// rather than a line, so it never depends on colour alone.
const INJECTED_COLOUR: &str = "#d97706";
const WITHDRAWN_COLOUR: &str = "#0072b2";
const SHARED_COLOUR: &str = "#009e73";

/// The chart as a standalone SVG document (960×500, scalable through its `viewBox`).
///
/// `title` and `subtitle` (e.g. the configuration's name and the period) are escaped; negative
/// energies are drawn as zero. Without buckets the chart says [`NO_DATA_MESSAGE`].
pub fn energy_chart_svg(title: &str, subtitle: &str, buckets: &[EnergyBucket]) -> String {
    let mut out = String::with_capacity(4096 + buckets.len() * 320);
    render(&mut out, title, subtitle, buckets).expect("writing to a String cannot fail");
    out
}

/// Round y-axis ticks from 0 up to at least `max`: about five intervals of 1, 2, 2.5 or 5 × 10ⁿ.
/// The last tick is the top of the axis. `max` of zero (or not a positive number) gives `[0, 1]`.
pub fn nice_ticks(max: f64) -> Vec<f64> {
    if !(max.is_finite() && max > 0.0) {
        return vec![0.0, 1.0];
    }
    let step = nice_step(max / 5.0);
    let intervals = ((max / step) - 1e-9).ceil().max(1.0) as usize;
    let decimals = decimals_of(step);
    (0..=intervals)
        .map(|i| round_to(i as f64 * step, decimals))
        .collect()
}

/// The smallest of 1, 2, 2.5, 5 × 10ⁿ that is at least `raw` (which must be positive).
fn nice_step(raw: f64) -> f64 {
    let magnitude = 10f64.powf(raw.log10().floor());
    let normalized = raw / magnitude;
    let nice = [1.0, 2.0, 2.5, 5.0]
        .into_iter()
        .find(|&n| normalized <= n + 1e-9)
        .unwrap_or(10.0);
    nice * magnitude
}

/// How many decimals `step` needs to be written exactly (at most 6).
fn decimals_of(step: f64) -> usize {
    (0..6)
        .find(|&d| {
            let scaled = step * 10f64.powi(d as i32);
            (scaled - scaled.round()).abs() < 1e-6
        })
        .unwrap_or(6)
}

fn round_to(value: f64, decimals: usize) -> f64 {
    let factor = 10f64.powi(decimals as i32);
    (value * factor).round() / factor
}

/// Show every `n`-th x label, `n` chosen so labels `label_px` wide never overlap on slots
/// `slot_px` wide. Prefers steps that fit hours (3, 6, 12, 24…) and days (7, 14…).
pub fn label_step(slot_px: f64, label_px: f64) -> usize {
    const STEPS: [usize; 21] = [
        1, 2, 3, 4, 6, 7, 12, 14, 24, 28, 48, 56, 72, 96, 168, 336, 504, 672, 720, 1440, 2160,
    ];
    if slot_px.is_nan() || slot_px <= 0.0 {
        return 1;
    }
    let needed = ((label_px + LABEL_GAP) / slot_px).ceil().max(1.0) as usize;
    STEPS.into_iter().find(|&s| s >= needed).unwrap_or(needed)
}

fn text_width(text: &str, font_size: f64) -> f64 {
    text.chars().count() as f64 * font_size * CHAR_EM
}

/// `text`, cut with an ellipsis so that it fits in `max_px` at `font_size`.
fn fit(text: &str, font_size: f64, max_px: f64) -> String {
    let max_chars = (max_px / (font_size * CHAR_EM)).floor().max(1.0) as usize;
    if text.chars().count() <= max_chars {
        return text.to_string();
    }
    let mut cut: String = text.chars().take(max_chars - 1).collect();
    cut.truncate(cut.trim_end().len());
    cut.push('…');
    cut
}

/// XML-escape text for element content and attribute values.
pub(super) fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&apos;"),
            // Control characters other than tab and newline are not allowed in XML 1.0.
            c if c.is_control() && c != '\t' && c != '\n' => {}
            c => escaped.push(c),
        }
    }
    escaped
}

/// `value` with `decimals` decimals and a no-break space between thousands: `12 345.6`.
fn format_number(value: f64, decimals: usize) -> String {
    let formatted = format!("{value:.decimals$}");
    let (sign, unsigned) = match formatted.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", formatted.as_str()),
    };
    let (integer, fraction) = match unsigned.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (unsigned, None),
    };
    let mut grouped = String::from(sign);
    for (i, digit) in integer.chars().enumerate() {
        if i > 0 && (integer.len() - i) % 3 == 0 {
            grouped.push('\u{a0}');
        }
        grouped.push(digit);
    }
    if let Some(fraction) = fraction {
        grouped.push('.');
        grouped.push_str(fraction);
    }
    grouped
}

/// An energy with as many decimals as are meaningful at its size, plus the unit.
fn format_kwh(value: f64) -> String {
    let decimals = if value >= 100.0 {
        0
    } else if value >= 10.0 {
        1
    } else {
        2
    };
    format!("{}\u{a0}kWh", format_number(value, decimals))
}

fn kwh(value: Decimal) -> f64 {
    value
        .to_f64()
        .filter(|v| v.is_finite())
        .unwrap_or(0.0)
        .max(0.0)
}

fn render(out: &mut String, title: &str, subtitle: &str, buckets: &[EnergyBucket]) -> fmt::Result {
    let values: Vec<[f64; 3]> = buckets
        .iter()
        .map(|b| [kwh(b.injected_kwh), kwh(b.withdrawn_kwh), kwh(b.shared_kwh)])
        .collect();
    let totals = values.iter().fold([0.0; 3], |acc, v| {
        [acc[0] + v[0], acc[1] + v[1], acc[2] + v[2]]
    });

    write!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" font-family="{FONT_FAMILY}">"#
    )?;
    write!(out, "<title>{}</title>", escape(title))?;
    let summary = if buckets.is_empty() {
        format!("{NO_DATA_MESSAGE}.")
    } else {
        format!(
            "{INJECTED_NAME}: {}, {WITHDRAWN_NAME}: {}, {SHARED_NAME}: {}, over {} buckets.",
            format_kwh(totals[0]),
            format_kwh(totals[1]),
            format_kwh(totals[2]),
            buckets.len()
        )
    };
    if subtitle.is_empty() {
        write!(out, "<desc>{summary}</desc>")?;
    } else {
        write!(out, "<desc>{}. {summary}</desc>", escape(subtitle))?;
    }
    write!(
        out,
        r##"<rect width="{WIDTH}" height="{HEIGHT}" fill="#ffffff"/>"##
    )?;

    // Header: title, subtitle.
    let text_room = WIDTH - 2.0 * MARGIN;
    write!(
        out,
        r#"<text x="{MARGIN}" y="40" font-size="{TITLE_SIZE}" font-weight="600" fill="{TEXT}">{}</text>"#,
        escape(&fit(title, TITLE_SIZE * 1.05, text_room))
    )?;
    if !subtitle.is_empty() {
        write!(
            out,
            r#"<text x="{MARGIN}" y="64" font-size="{SUBTITLE_SIZE}" fill="{MUTED}">{}</text>"#,
            escape(&fit(subtitle, SUBTITLE_SIZE, text_room))
        )?;
    }

    if buckets.is_empty() {
        write!(
            out,
            r##"<rect x="{MARGIN}" y="{PLOT_TOP}" width="{}" height="{}" rx="8" fill="#f6f8fa" stroke="{GRID}"/>"##,
            PLOT_RIGHT - MARGIN,
            PLOT_BOTTOM - PLOT_TOP
        )?;
        write!(
            out,
            r#"<text x="{}" y="{}" font-size="16" fill="{MUTED}" text-anchor="middle">{NO_DATA_MESSAGE}</text>"#,
            WIDTH / 2.0,
            (PLOT_TOP + PLOT_BOTTOM) / 2.0 + 5.0
        )?;
        return out.write_str("</svg>");
    }

    write_legend(out, totals)?;

    // Y axis: round ticks from 0, labels right-aligned left of the plot, the unit as axis title.
    let max = values
        .iter()
        .flat_map(|v| v.iter().copied())
        .fold(0.0, f64::max);
    let ticks = nice_ticks(max);
    let top_value = ticks.last().copied().unwrap_or(1.0);
    let tick_decimals = decimals_of(ticks.get(1).copied().unwrap_or(1.0));
    let tick_labels: Vec<String> = ticks
        .iter()
        .map(|&t| format_number(t, tick_decimals))
        .collect();
    let widest_tick = tick_labels
        .iter()
        .map(|l| text_width(l, TICK_SIZE))
        .fold(0.0, f64::max);
    let left = (MARGIN + 22.0 + widest_tick + 10.0).round();
    let plot_width = PLOT_RIGHT - left;
    let plot_height = PLOT_BOTTOM - PLOT_TOP;
    let y_of = |v: f64| PLOT_BOTTOM - v / top_value * plot_height;

    for (tick, label) in ticks.iter().zip(&tick_labels) {
        let y = y_of(*tick);
        if *tick > 0.0 {
            write!(
                out,
                r#"<line x1="{left}" y1="{y:.1}" x2="{PLOT_RIGHT}" y2="{y:.1}" stroke="{GRID}"/>"#
            )?;
        }
        write!(
            out,
            r#"<text class="y-label" x="{}" y="{:.1}" font-size="{TICK_SIZE}" fill="{MUTED}" text-anchor="end">{label}</text>"#,
            left - 8.0,
            y + 4.0
        )?;
    }
    let axis_mid = (PLOT_TOP + PLOT_BOTTOM) / 2.0;
    write!(
        out,
        r#"<text x="{0}" y="{axis_mid}" font-size="{TICK_SIZE}" fill="{MUTED}" text-anchor="middle" transform="rotate(-90 {0} {axis_mid})">Energy (kWh)</text>"#,
        MARGIN + 6.0
    )?;

    // Series: bucket i is centred in its slot.
    let n = values.len();
    let slot = plot_width / n as f64;
    let x_of = |i: usize| left + (i as f64 + 0.5) * slot;
    // A single bucket is drawn as a level across the middle half of its slot.
    let points = |series: usize| {
        if n == 1 {
            let (x, y, half) = (x_of(0), y_of(values[0][series]), slot * 0.25);
            return format!("{:.1},{y:.1} {:.1},{y:.1}", x - half, x + half);
        }
        let mut s = String::with_capacity(n * 14);
        for (i, v) in values.iter().enumerate() {
            if i > 0 {
                s.push(' ');
            }
            // Writing to a String cannot fail.
            let _ = write!(s, "{:.1},{:.1}", x_of(i), y_of(v[series]));
        }
        s
    };

    let base = PLOT_BOTTOM;
    let area = if n == 1 {
        let (x, y, half) = (x_of(0), y_of(values[0][2]), slot * 0.25);
        format!(
            "M{:.1},{base} L{:.1},{y:.1} L{:.1},{y:.1} L{:.1},{base} Z",
            x - half,
            x - half,
            x + half,
            x + half
        )
    } else {
        format!(
            "M{:.1},{base} L{} L{:.1},{base} Z",
            x_of(0),
            points(2).replace(' ', " L"),
            x_of(n - 1)
        )
    };
    write!(
        out,
        r#"<path class="shared" d="{area}" fill="{SHARED_COLOUR}" fill-opacity="0.28" stroke="{SHARED_COLOUR}" stroke-width="1.5" stroke-linejoin="round"/>"#
    )?;

    let line_width = if n > 200 { 1.4 } else { 2.5 };
    let markers = slot >= 14.0 || n == 1;
    for (series, class, colour) in [
        (1, "withdrawn", WITHDRAWN_COLOUR),
        (0, "injected", INJECTED_COLOUR),
    ] {
        write!(
            out,
            r#"<polyline class="{class}" points="{}" fill="none" stroke="{colour}" stroke-width="{line_width}" stroke-linejoin="round" stroke-linecap="round"/>"#,
            points(series)
        )?;
        if markers {
            write!(
                out,
                r##"<g fill="{colour}" stroke="#ffffff" stroke-width="1.5">"##
            )?;
            for (i, v) in values.iter().enumerate() {
                write!(
                    out,
                    r#"<circle cx="{:.1}" cy="{:.1}" r="4"/>"#,
                    x_of(i),
                    y_of(v[series])
                )?;
            }
            out.write_str("</g>")?;
        }
    }

    // X axis: the zero line, then every `step`-th bucket label with a tick, kept inside the SVG.
    write!(
        out,
        r#"<line x1="{left}" y1="{base}" x2="{PLOT_RIGHT}" y2="{base}" stroke="{AXIS}" stroke-width="1"/>"#
    )?;
    let widest_label = buckets
        .iter()
        .map(|b| text_width(&b.label, TICK_SIZE))
        .fold(0.0, f64::max);
    let step = label_step(slot, widest_label);
    for (i, bucket) in buckets.iter().enumerate().step_by(step) {
        let x = x_of(i);
        let half = text_width(&bucket.label, TICK_SIZE) / 2.0;
        let text_x = x.clamp(MARGIN / 2.0 + half, WIDTH - MARGIN / 2.0 - half);
        write!(
            out,
            r#"<line x1="{x:.1}" y1="{base}" x2="{x:.1}" y2="{}" stroke="{AXIS}"/>"#,
            base + 5.0
        )?;
        write!(
            out,
            r#"<text class="x-label" x="{text_x:.1}" y="{}" font-size="{TICK_SIZE}" fill="{MUTED}" text-anchor="middle">{}</text>"#,
            base + 20.0,
            escape(&bucket.label)
        )?;
    }

    // Invisible columns carrying each bucket's exact values as a hover tooltip.
    if n <= MAX_TOOLTIPS {
        out.write_str(r##"<g fill="#ffffff" fill-opacity="0">"##)?;
        for (i, (bucket, v)) in buckets.iter().zip(&values).enumerate() {
            write!(
                out,
                r#"<rect x="{:.1}" y="{PLOT_TOP}" width="{slot:.2}" height="{plot_height}"><title>{}: {INJECTED_NAME} {}, {WITHDRAWN_NAME} {}, {SHARED_NAME} {}</title></rect>"#,
                left + i as f64 * slot,
                escape(&bucket.label),
                format_kwh(v[0]),
                format_kwh(v[1]),
                format_kwh(v[2])
            )?;
        }
        out.write_str("</g>")?;
    }
    out.write_str("</svg>")
}

/// One row under the subtitle: a swatch, the series name and its total over the period.
fn write_legend(out: &mut String, totals: [f64; 3]) -> fmt::Result {
    let y = 98.0;
    let mut x = MARGIN;
    for (name, colour, total, is_area) in [
        (INJECTED_NAME, INJECTED_COLOUR, totals[0], false),
        (WITHDRAWN_NAME, WITHDRAWN_COLOUR, totals[1], false),
        (SHARED_NAME, SHARED_COLOUR, totals[2], true),
    ] {
        if is_area {
            write!(
                out,
                r#"<rect x="{x}" y="{}" width="22" height="12" rx="2" fill="{colour}" fill-opacity="0.28" stroke="{colour}" stroke-width="1.5"/>"#,
                y - 10.0
            )?;
        } else {
            write!(
                out,
                r##"<line x1="{x}" y1="{0}" x2="{1}" y2="{0}" stroke="{colour}" stroke-width="2.5" stroke-linecap="round"/><circle cx="{2}" cy="{0}" r="4" fill="{colour}" stroke="#ffffff" stroke-width="1.5"/>"##,
                y - 4.0,
                x + 22.0,
                x + 11.0
            )?;
        }
        let total = format_kwh(total);
        write!(
            out,
            r#"<text class="legend" x="{}" y="{y}" font-size="{LEGEND_SIZE}" fill="{TEXT}"><tspan font-weight="600">{name}</tspan> <tspan fill="{MUTED}">{total}</tspan></text>"#,
            x + 30.0
        )?;
        x += 30.0 + text_width(name, LEGEND_SIZE) + 6.0 + text_width(&total, LEGEND_SIZE) + 28.0;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bucket(label: &str, injected: i64, withdrawn: i64, shared: i64) -> EnergyBucket {
        EnergyBucket {
            label: label.to_string(),
            injected_kwh: Decimal::from(injected),
            withdrawn_kwh: Decimal::from(withdrawn),
            shared_kwh: Decimal::from(shared),
        }
    }

    fn days(count: usize) -> Vec<EnergyBucket> {
        (0..count)
            .map(|d| {
                let i = 40 + (d % 17) as i64;
                let w = 30 + (d % 11) as i64;
                bucket(
                    &format!("{:02}/{:02}", d % 28 + 1, d / 28 + 1),
                    i,
                    w,
                    i.min(w) - 5,
                )
            })
            .collect()
    }

    /// The (x, y) pairs of the polyline with class `class`.
    fn polyline(svg: &str, class: &str) -> Vec<(f64, f64)> {
        let start = svg
            .find(&format!(r#"<polyline class="{class}" points=""#))
            .expect("polyline present");
        let rest = &svg[start..];
        let points = rest.split("points=\"").nth(1).unwrap();
        let points = &points[..points.find('"').unwrap()];
        points
            .split(' ')
            .map(|p| {
                let (x, y) = p.split_once(',').unwrap();
                (x.parse().unwrap(), y.parse().unwrap())
            })
            .collect()
    }

    #[test]
    fn is_an_svg_document_with_escaped_title_legend_and_unit() {
        let svg = energy_chart_svg(
            "Rossi & Figli <CER>",
            "March 2025 \"daily\"",
            &[bucket("01/03", 10, 8, 6), bucket("02/03", 12, 9, 7)],
        );
        assert!(svg.starts_with("<svg "));
        assert!(svg.ends_with("</svg>"));
        assert!(svg.contains(r#"xmlns="http://www.w3.org/2000/svg""#));
        assert!(svg.contains("Rossi &amp; Figli &lt;CER&gt;"));
        assert!(svg.contains("March 2025 &quot;daily&quot;"));
        assert!(!svg.contains("<CER>"));
        for name in [INJECTED_NAME, WITHDRAWN_NAME, SHARED_NAME] {
            assert!(svg.contains(&format!(r#"<tspan font-weight="600">{name}</tspan>"#)));
        }
        assert!(svg.contains("kWh"));
        assert!(svg.contains(">01/03</text>") && svg.contains(">02/03</text>"));
        // Every element that is opened is closed.
        assert_eq!(svg.matches("<svg").count(), 1);
        assert_eq!(svg.matches("<text").count(), svg.matches("</text>").count());
        assert_eq!(svg.matches("<g ").count(), svg.matches("</g>").count());
    }

    #[test]
    fn empty_input_says_there_is_no_data() {
        let svg = energy_chart_svg("Config A", "April 2025", &[]);
        assert!(svg.starts_with("<svg ") && svg.ends_with("</svg>"));
        assert!(svg.contains(NO_DATA_MESSAGE));
        assert!(svg.contains("Config A"));
        assert!(!svg.contains("<polyline"));
    }

    #[test]
    fn many_buckets_get_few_non_overlapping_labels() {
        let svg = energy_chart_svg("Year", "2025", &days(365));
        let labels = svg.matches(r#"class="x-label""#).count();
        assert!((5..=20).contains(&labels), "{labels} labels");

        // Few buckets: every label is shown.
        let svg = energy_chart_svg("Year", "2025", &days(12));
        assert_eq!(svg.matches(r#"class="x-label""#).count(), 12);

        // 744 hours with long labels.
        let hours: Vec<_> = (0..744)
            .map(|h| bucket(&format!("{:02}/03 {:02}:00", h / 24 + 1, h % 24), 1, 1, 1))
            .collect();
        let svg = energy_chart_svg("Month", "March", &hours);
        let labels = svg.matches(r#"class="x-label""#).count();
        assert!((3..=12).contains(&labels), "{labels} labels");
    }

    #[test]
    fn label_step_leaves_room_for_each_label() {
        assert_eq!(label_step(80.0, 40.0), 1);
        assert_eq!(label_step(30.0, 40.0), 2); // 50 px needed on 30 px slots
        assert_eq!(label_step(10.0, 40.0), 6); // 50 / 10 → 5 → 6
        assert_eq!(label_step(2.4, 36.0), 24); // 46 / 2.4 → 20 → 24
        assert_eq!(label_step(0.05, 50.0), 1440); // 1200 → 1440
        for slot in [0.3, 1.2, 2.4, 7.0, 28.0, 73.0] {
            let step = label_step(slot, 60.0);
            assert!(step as f64 * slot >= 60.0 + LABEL_GAP);
        }
    }

    #[test]
    fn nice_ticks_are_round_and_cover_the_maximum() {
        assert_eq!(nice_ticks(70.0), vec![0.0, 20.0, 40.0, 60.0, 80.0]);
        assert_eq!(nice_ticks(100.0), vec![0.0, 20.0, 40.0, 60.0, 80.0, 100.0]);
        assert_eq!(nice_ticks(3.2), vec![0.0, 1.0, 2.0, 3.0, 4.0]);
        assert_eq!(nice_ticks(0.7), vec![0.0, 0.2, 0.4, 0.6, 0.8]);
        assert_eq!(nice_ticks(12.0), vec![0.0, 2.5, 5.0, 7.5, 10.0, 12.5]);
        assert_eq!(
            nice_ticks(1234.0),
            vec![0.0, 250.0, 500.0, 750.0, 1000.0, 1250.0]
        );
        assert_eq!(nice_ticks(0.04), vec![0.0, 0.01, 0.02, 0.03, 0.04]);
        assert_eq!(nice_ticks(0.0), vec![0.0, 1.0]);
        assert_eq!(nice_ticks(f64::NAN), vec![0.0, 1.0]);
        assert_eq!(nice_ticks(-5.0), vec![0.0, 1.0]);
    }

    #[test]
    fn heights_are_proportional_to_energy() {
        let svg = energy_chart_svg(
            "t",
            "s",
            &[
                bucket("a", 0, 5, 0),
                bucket("b", 10, 15, 3),
                bucket("c", 20, 30, 6),
            ],
        );
        let injected = polyline(&svg, "injected");
        let withdrawn = polyline(&svg, "withdrawn");
        assert_eq!(injected.len(), 3);
        let baseline = injected[0].1;
        let height = |p: (f64, f64)| baseline - p.1;
        assert!(height(injected[1]) > 0.0);
        assert!((height(injected[2]) - 2.0 * height(injected[1])).abs() < 0.2);
        assert!((height(withdrawn[2]) - 2.0 * height(withdrawn[1])).abs() < 0.2);
        assert!((height(withdrawn[1]) - 1.5 * height(injected[1])).abs() < 0.2);
        // x advances by equal slots.
        assert!(((injected[1].0 - injected[0].0) - (injected[2].0 - injected[1].0)).abs() < 0.2);
        // The axis runs from 0 to the last nice tick: 30 for a maximum of 30.
        assert!((withdrawn[2].1 - PLOT_TOP).abs() < 0.01);
        assert!(svg.contains(">30</text>") && !svg.contains(">40</text>"));
    }

    #[test]
    fn a_single_bucket_and_negative_values_still_draw() {
        let svg = energy_chart_svg("t", "s", &[bucket("Mar 2025", -3, 7, 0)]);
        assert!(svg.contains("<circle"));
        let injected = polyline(&svg, "injected");
        assert_eq!(injected.len(), 2);
        assert!(injected.iter().all(|p| (p.1 - PLOT_BOTTOM).abs() < 0.01));
    }

    #[test]
    fn numbers_are_grouped_by_thousands() {
        assert_eq!(format_number(1234567.891, 1), "1\u{a0}234\u{a0}567.9");
        assert_eq!(format_number(999.0, 0), "999");
        assert_eq!(format_number(0.25, 2), "0.25");
        assert_eq!(format_kwh(12345.4), "12\u{a0}345\u{a0}kWh");
        assert_eq!(format_kwh(4.567), "4.57\u{a0}kWh");
    }

    #[test]
    fn long_titles_are_cut_and_control_characters_dropped() {
        let long = "x".repeat(500);
        let svg = energy_chart_svg(&long, "a\u{1}b", &[bucket("a", 1, 1, 1)]);
        assert!(svg.contains('…'));
        assert!(svg.contains(">ab</text>"));
    }
}
