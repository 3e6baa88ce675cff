//! The report of a parameter search: the table as JSON and CSV, a Markdown summary, and charts.

use std::fmt::Write;
use std::path::{Path, PathBuf};

use plotters::style::RGBColor;
use serde::Serialize;

use super::markdown::{num, opt};
use crate::charts::{write_chart, HeatScatter, Series, XyChart};
use crate::error::Result;
use crate::fsutil::{ensure_dir, write_atomic};
use crate::optimize::{OptimizationResult, ParamSpace, Scale};

#[derive(Serialize)]
struct OptimizationJson<'a> {
    method: &'a str,
    best: Option<&'a crate::optimize::TrialRow>,
    space: &'a ParamSpace,
    result: &'a OptimizationResult,
}

/// Writes `optimization.json`, `optimization.csv`, `optimization.md`, `objective.{png,svg}` (value
/// and best-so-far against iteration) and, for a two-dimensional space, `landscape.{png,svg}` (the
/// trials in the plane, coloured by value; log-scale dimensions are drawn as log10). Returns the
/// paths written.
pub fn write_optimization_report(
    result: &OptimizationResult,
    space: &ParamSpace,
    out_dir: &Path,
) -> Result<Vec<PathBuf>> {
    ensure_dir(out_dir)?;
    let mut files = Vec::new();
    let points: Vec<(f64, f64)> =
        result.rows.iter().filter_map(|r| r.objective.map(|v| (r.iteration as f64, v))).collect();
    let best: Vec<(f64, f64)> =
        result.rows.iter().filter_map(|r| r.best_so_far.map(|v| (r.iteration as f64, v))).collect();
    let chart = XyChart {
        title: format!("{} search: objective by iteration", result.method),
        x_label: "iteration".into(),
        y_label: "objective".into(),
        series: vec![
            Series::points("trial", RGBColor(31, 119, 180), points),
            Series::line("best so far", RGBColor(214, 39, 40), best),
        ],
    };
    files.extend(write_chart(out_dir, "objective", &chart)?);
    if let [px, py] = space.params() {
        let axis = |spec: &crate::optimize::ParamSpec, x: f64| match spec.scale {
            Scale::Linear => x,
            Scale::Log => x.log10(),
        };
        let label = |spec: &crate::optimize::ParamSpec| match spec.scale {
            Scale::Linear => spec.name.clone(),
            Scale::Log => format!("log10({})", spec.name),
        };
        let xy = |p: &crate::optimize::Params| Some((axis(px, p.get(&px.name)?), axis(py, p.get(&py.name)?)));
        let scatter = HeatScatter {
            title: format!("{} search: objective (blue low, red high; ringed = best)", result.method),
            x_label: label(px),
            y_label: label(py),
            points: result
                .rows
                .iter()
                .filter_map(|r| Some((xy(&r.params)?, r.objective?)))
                .map(|((x, y), v)| (x, y, v))
                .collect(),
            best: result.best.as_ref().and_then(|b| xy(&b.params)),
        };
        files.extend(write_chart(out_dir, "landscape", &scatter)?);
    }
    let json = OptimizationJson { method: &result.method, best: result.best.as_ref(), space, result };
    let json_path = out_dir.join("optimization.json");
    write_atomic(&json_path, &serde_json::to_vec_pretty(&json)?)?;
    files.push(json_path);
    let csv_path = out_dir.join("optimization.csv");
    write_atomic(&csv_path, result.to_csv().as_bytes())?;
    files.push(csv_path);
    let md_path = out_dir.join("optimization.md");
    write_atomic(&md_path, markdown(result, space.dims() == 2).as_bytes())?;
    files.push(md_path);
    Ok(files)
}

/// Most rows listed in `optimization.md` (the CSV has them all).
const MD_TOP_ROWS: usize = 20;

fn markdown(result: &OptimizationResult, has_landscape: bool) -> String {
    let mut o = format!("# Optimisation report ({} search, {:?})\n\n", result.method, result.goal);
    let _ = writeln!(o, "{} trials; best objective {}.\n", result.rows.len(), opt(result.best_objective()));
    if let Some(best) = &result.best {
        o.push_str("## Best parameters\n\n| parameter | value |\n|---|---|\n");
        for (k, v) in best.params.iter() {
            let _ = writeln!(o, "| {k} | {} |", num(v));
        }
    }
    let mut ranked: Vec<_> = result.rows.iter().filter(|r| r.objective.is_some()).collect();
    let sign = result.goal.sign();
    ranked
        .sort_by(|a, b| (sign * b.objective.unwrap_or(0.0)).total_cmp(&(sign * a.objective.unwrap_or(0.0))));
    let _ = writeln!(
        o,
        "\n## Top {} trials\n\n| iteration | phase | objective | parameters |\n|---|---|---|---|",
        MD_TOP_ROWS
    );
    for r in ranked.into_iter().take(MD_TOP_ROWS) {
        let params: Vec<String> = r.params.iter().map(|(k, v)| format!("{k} = {}", num(v))).collect();
        let _ =
            writeln!(o, "| {} | {:?} | {} | {} |", r.iteration, r.phase, opt(r.objective), params.join(", "));
    }
    o.push_str("\n## Charts\n\n![objective by iteration](objective.png)\n\n[SVG](objective.svg)\n");
    if has_landscape {
        o.push_str("\n![objective landscape](landscape.png)\n\n[SVG](landscape.svg)\n");
    }
    o.push_str("\nEvery trial is in `optimization.csv` and `optimization.json`.\n");
    o
}
