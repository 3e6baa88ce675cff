//! Chart rendering with plotters into memory (SVG text, RGB pixels encoded as PNG), so that files
//! are written atomically by the caller. The DejaVu Sans font is embedded and registered as
//! `sans-serif`: no system fonts are needed.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::prelude::*;

use crate::error::{BacktestError, Result};
use crate::fsutil::write_atomic;

/// Chart size, pixels.
pub(crate) const WIDTH_PX: u32 = 1000;
/// Chart size, pixels.
pub(crate) const HEIGHT_PX: u32 = 500;
/// Most points drawn per series; longer series are thinned by a uniform stride.
pub(crate) const MAX_CHART_POINTS: usize = 4000;

fn chart_err<E: std::fmt::Display>(e: E) -> BacktestError {
    BacktestError::Chart(e.to_string())
}

/// Registers the embedded font once per process.
fn ensure_font() -> Result<()> {
    static REGISTERED: OnceLock<std::result::Result<(), String>> = OnceLock::new();
    REGISTERED
        .get_or_init(|| {
            plotters::style::register_font("sans-serif", FontStyle::Normal, dejavu::sans::regular())
                .map_err(|_| "the embedded DejaVu Sans font does not parse".to_string())
        })
        .clone()
        .map_err(BacktestError::Chart)
}

/// How a series is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mark {
    /// Connected line (each segment separately).
    Line,
    /// Dots.
    Points,
}

/// One named series, possibly broken into segments (a gap where the value is missing).
#[derive(Debug, Clone)]
pub(crate) struct Series {
    pub name: String,
    pub color: RGBColor,
    pub mark: Mark,
    pub segments: Vec<Vec<(f64, f64)>>,
}

impl Series {
    pub(crate) fn line(name: &str, color: RGBColor, points: Vec<(f64, f64)>) -> Self {
        Self { name: name.to_string(), color, mark: Mark::Line, segments: vec![points] }
    }

    pub(crate) fn points(name: &str, color: RGBColor, points: Vec<(f64, f64)>) -> Self {
        Self { name: name.to_string(), color, mark: Mark::Points, segments: vec![points] }
    }

    /// A line with gaps where `y` is `None`.
    pub(crate) fn gapped(
        name: &str,
        color: RGBColor,
        points: impl Iterator<Item = (f64, Option<f64>)>,
    ) -> Self {
        let mut segments: Vec<Vec<(f64, f64)>> = vec![Vec::new()];
        for (x, y) in points {
            match (y, segments.last_mut()) {
                (Some(y), Some(seg)) => seg.push((x, y)),
                (None, Some(seg)) if !seg.is_empty() => segments.push(Vec::new()),
                _ => {}
            }
        }
        Self { name: name.to_string(), color, mark: Mark::Line, segments }
    }

    fn all_points(&self) -> impl Iterator<Item = &(f64, f64)> {
        self.segments.iter().flatten()
    }
}

/// Every `stride`-th index so that at most [`MAX_CHART_POINTS`] remain, always keeping the last.
pub(crate) fn thin(len: usize) -> Vec<usize> {
    let stride = len.div_ceil(MAX_CHART_POINTS).max(1);
    let mut idx: Vec<usize> = (0..len).step_by(stride).collect();
    if len > 0 && idx.last() != Some(&(len - 1)) {
        idx.push(len - 1);
    }
    idx
}

/// Something drawable on any plotters backend.
pub(crate) trait Chart {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()>;
}

/// A chart of lines and dots over two linear axes.
#[derive(Debug, Clone)]
pub(crate) struct XyChart {
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    pub series: Vec<Series>,
}

/// Axis range covering `values` with 5% padding; [0, 1] when empty, ±1 around a constant.
fn padded_range(values: impl Iterator<Item = f64>) -> std::ops::Range<f64> {
    let (lo, hi) = values
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| (lo.min(v), hi.max(v)));
    if lo > hi {
        return 0.0..1.0;
    }
    let span = hi - lo;
    if span <= f64::EPSILON * lo.abs().max(1.0) {
        return lo - 1.0..hi + 1.0;
    }
    lo - 0.05 * span..hi + 0.05 * span
}

/// Stroke width for a line of these points: 2 px when sparse, 1 px when dense.
fn line_width(points: &[(f64, f64)]) -> u32 {
    if points.len() > DENSE_LINE_POINTS {
        1
    } else {
        2
    }
}

/// Above this many points a line is drawn one pixel wide.
const DENSE_LINE_POINTS: usize = 300;

/// An axis tick label: at most 4 decimals, no trailing zeros.
fn tick_label(x: &f64) -> String {
    if x.abs() >= 1e7 || (x.abs() < 1e-3 && *x != 0.0) {
        return format!("{x:.2e}");
    }
    let s = format!("{x:.4}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" {
        "0".to_string()
    } else {
        s.to_string()
    }
}

type Ctx<'a, DB> = ChartContext<'a, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

fn build<'a, DB: DrawingBackend>(
    root: &'a DrawingArea<DB, Shift>,
    title: &str,
    x_label: &str,
    y_label: &str,
    ranges: (std::ops::Range<f64>, std::ops::Range<f64>),
) -> Result<Ctx<'a, DB>> {
    root.fill(&WHITE).map_err(chart_err)?;
    let mut chart = ChartBuilder::on(root)
        .caption(title, ("sans-serif", 22))
        .margin(15)
        .x_label_area_size(45)
        .y_label_area_size(85)
        .build_cartesian_2d(ranges.0, ranges.1)
        .map_err(chart_err)?;
    chart
        .configure_mesh()
        .x_desc(x_label)
        .y_desc(y_label)
        .light_line_style(RGBColor(235, 235, 235))
        .x_label_formatter(&tick_label)
        .y_label_formatter(&tick_label)
        .draw()
        .map_err(chart_err)?;
    Ok(chart)
}

fn draw_series<DB: DrawingBackend>(chart: &mut Ctx<'_, DB>, s: &Series) -> Result<()> {
    let color = s.color;
    let mut labelled = false;
    for seg in s.segments.iter().filter(|seg| !seg.is_empty()) {
        let anno = match s.mark {
            // Wide polylines get miter spikes at sharp turns; dense series are drawn one pixel wide.
            Mark::Line => {
                chart.draw_series(LineSeries::new(seg.iter().copied(), color.stroke_width(line_width(seg))))
            }
            Mark::Points => chart.draw_series(seg.iter().map(|&p| Circle::new(p, 3, color.filled()))),
        }
        .map_err(chart_err)?;
        if labelled {
            continue;
        }
        labelled = true;
        let anno = anno.label(s.name.as_str());
        match s.mark {
            Mark::Line => {
                anno.legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2)));
            }
            Mark::Points => {
                anno.legend(move |(x, y)| Circle::new((x + 10, y), 3, color.filled()));
            }
        }
    }
    Ok(())
}

impl Chart for XyChart {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()> {
        let x = padded_range(self.series.iter().flat_map(|s| s.all_points().map(|p| p.0)));
        let y = padded_range(self.series.iter().flat_map(|s| s.all_points().map(|p| p.1)));
        let mut chart = build(root, &self.title, &self.x_label, &self.y_label, (x, y))?;
        for s in &self.series {
            draw_series(&mut chart, s)?;
        }
        if self.series.iter().any(|s| s.all_points().next().is_some()) {
            chart
                .configure_series_labels()
                .position(SeriesLabelPosition::UpperLeft)
                .background_style(WHITE.mix(0.85))
                .border_style(BLACK)
                .label_font(("sans-serif", 14))
                .draw()
                .map_err(chart_err)?;
        }
        root.present().map_err(chart_err)
    }
}

/// Dots at (x, y) coloured by a value (blue = low, red = high); the best point ringed in black.
#[derive(Debug, Clone)]
pub(crate) struct HeatScatter {
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    pub points: Vec<(f64, f64, f64)>,
    pub best: Option<(f64, f64)>,
}

/// Blue → pale yellow → red, for t in [0, 1].
fn heat_color(t: f64) -> RGBColor {
    let t = if t.is_finite() { t.clamp(0.0, 1.0) } else { 0.0 };
    let (a, b, u) = if t < 0.5 {
        ((49.0, 54.0, 149.0), (255.0, 255.0, 191.0), t * 2.0)
    } else {
        ((255.0, 255.0, 191.0), (165.0, 0.0, 38.0), t * 2.0 - 1.0)
    };
    let mix = |x: f64, y: f64| (x + (y - x) * u).round() as u8;
    RGBColor(mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
}

impl Chart for HeatScatter {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()> {
        let x = padded_range(self.points.iter().map(|p| p.0));
        let y = padded_range(self.points.iter().map(|p| p.1));
        let mut chart = build(root, &self.title, &self.x_label, &self.y_label, (x, y))?;
        let (lo, hi) = self
            .points
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), p| (lo.min(p.2), hi.max(p.2)));
        let span = if hi > lo { hi - lo } else { 1.0 };
        chart
            .draw_series(
                self.points
                    .iter()
                    .map(|&(x, y, v)| Circle::new((x, y), 5, heat_color((v - lo) / span).filled())),
            )
            .map_err(chart_err)?;
        if let Some(best) = self.best {
            chart
                .draw_series(std::iter::once(Circle::new(best, 9, BLACK.stroke_width(2))))
                .map_err(chart_err)?;
        }
        root.present().map_err(chart_err)
    }
}

fn encode_png(rgb: &[u8], width: u32, height: u32) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, width, height);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header().map_err(chart_err)?;
    writer.write_image_data(rgb).map_err(chart_err)?;
    writer.finish().map_err(chart_err)?;
    Ok(out)
}

/// Renders a chart as SVG text.
pub(crate) fn render_svg(chart: &impl Chart) -> Result<String> {
    ensure_font()?;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH_PX, HEIGHT_PX)).into_drawing_area();
        chart.draw(&root)?;
    }
    Ok(svg)
}

/// Renders a chart as PNG bytes.
pub(crate) fn render_png(chart: &impl Chart) -> Result<Vec<u8>> {
    ensure_font()?;
    let mut rgb = vec![0u8; WIDTH_PX as usize * HEIGHT_PX as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut rgb, (WIDTH_PX, HEIGHT_PX)).into_drawing_area();
        chart.draw(&root)?;
    }
    encode_png(&rgb, WIDTH_PX, HEIGHT_PX)
}

/// Writes `<stem>.png` and `<stem>.svg` into `dir` atomically; returns their paths.
pub(crate) fn write_chart(dir: &Path, stem: &str, chart: &impl Chart) -> Result<Vec<PathBuf>> {
    let png_path = dir.join(format!("{stem}.png"));
    let svg_path = dir.join(format!("{stem}.svg"));
    write_atomic(&png_path, &render_png(chart)?)?;
    write_atomic(&svg_path, render_svg(chart)?.as_bytes())?;
    Ok(vec![png_path, svg_path])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gapped_series_splits_at_missing_values() {
        let pts = [(0.0, Some(1.0)), (1.0, None), (2.0, None), (3.0, Some(2.0)), (4.0, Some(3.0))];
        let s = Series::gapped("x", BLACK, pts.into_iter());
        assert_eq!(s.segments, vec![vec![(0.0, 1.0)], vec![(3.0, 2.0), (4.0, 3.0)]]);
    }

    #[test]
    fn thinning_keeps_first_and_last_and_bounds_the_count() {
        let idx = thin(10_001);
        assert!(idx.len() <= MAX_CHART_POINTS + 1);
        assert_eq!((idx[0], *idx.last().unwrap()), (0, 10_000));
        assert_eq!(thin(3), vec![0, 1, 2]);
        assert!(thin(0).is_empty());
    }

    #[test]
    fn tick_labels_are_short() {
        assert_eq!(tick_label(&40.0), "40");
        assert_eq!(tick_label(&-0.0), "0");
        assert_eq!(tick_label(&2.5), "2.5");
        assert_eq!(tick_label(&1e-5), "1.00e-5");
    }

    #[test]
    fn degenerate_ranges_are_widened() {
        assert_eq!(padded_range(std::iter::empty()), 0.0..1.0);
        assert_eq!(padded_range([5.0, 5.0].into_iter()), 4.0..6.0);
    }
}
