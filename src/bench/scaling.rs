//! `jbt bench --scaling`: how the planner's time and memory grow with the
//! number of referrals, each point planned in a fresh process.

use std::fmt::Write as _;
use std::time::Duration;

use anyhow::anyhow;

use super::{
    cpu_model, measure_in_child, mib, millis, options_of, ScenarioSize, REFERRALS_PER_REGION,
};

/// One point of the scaling curve: `repeats` fresh processes.
#[derive(Debug, Clone, PartialEq)]
pub struct ScalingPoint {
    /// The asked size (`scale:N`).
    pub target: usize,
    /// Size of the scenario actually generated for `target`.
    pub size: ScenarioSize,
    /// Median wall-clock time of `planner::plan` over the runs, in
    /// milliseconds.
    pub median_millis: f64,
    /// Maximum wall-clock time over the runs, in milliseconds.
    pub max_millis: f64,
    /// Largest peak resident memory of the runs, if known.
    pub peak_rss_kib: Option<u64>,
}

/// `jbt bench --scaling`: plans scenarios of `sizes` referrals, each in
/// `repeats` fresh child processes (time and memory of the plan alone;
/// generation is not timed), and returns the report in Markdown.
///
/// # Errors
///
/// A size outside 1..=100000, or a child process that cannot be
/// started, fails or does not report its size.
pub fn run_scaling(sizes: &[usize], repeats: u32) -> anyhow::Result<String> {
    let load_before = load_average();
    let mut points = Vec::new();
    for &n in sizes {
        let spec = format!("scale:{n}");
        options_of(&spec)?;
        let mut runs = Vec::new();
        for _ in 0..repeats.max(1) {
            runs.push(measure_in_child(&spec)?);
        }
        let mut times: Vec<f64> = runs.iter().map(|r| r.millis).collect();
        times.sort_by(f64::total_cmp);
        let size = runs
            .iter()
            .find_map(|r| r.size)
            .ok_or_else(|| anyhow!("the child process did not report the size of {spec}"))?;
        let point = ScalingPoint {
            target: n,
            size,
            median_millis: times[times.len() / 2],
            max_millis: times[times.len() - 1],
            peak_rss_kib: runs.iter().filter_map(|r| r.peak_rss_kib).max(),
        };
        eprintln!(
            "scale:{n}: {} referrals, {:.0} ms, {}",
            point.size.referrals,
            point.median_millis,
            point.peak_rss_kib.map_or("memory unknown".into(), mib)
        );
        points.push(point);
    }
    let load_after = load_average();
    Ok(scaling_report(
        &points,
        repeats.max(1),
        load_before,
        load_after,
    )?)
}

/// The 1-minute load average (`/proc/loadavg`), to note other work on the machine.
fn load_average() -> Option<String> {
    let text = std::fs::read_to_string("/proc/loadavg").ok()?;
    text.split_whitespace().next().map(str::to_string)
}

/// The exponent `b` of `y = a * x^b` fitted by least squares on
/// `(ln x, ln y)`; `None` for fewer than two distinct `x`.
pub fn fit_exponent(points: &[(f64, f64)]) -> Option<f64> {
    let logs: Vec<(f64, f64)> = points
        .iter()
        .filter(|(x, y)| *x > 0.0 && *y > 0.0)
        .map(|(x, y)| (x.ln(), y.ln()))
        .collect();
    let n = logs.len() as f64;
    let mean_x = logs.iter().map(|p| p.0).sum::<f64>() / n;
    let mean_y = logs.iter().map(|p| p.1).sum::<f64>() / n;
    let sxx: f64 = logs.iter().map(|p| (p.0 - mean_x).powi(2)).sum();
    let sxy: f64 = logs.iter().map(|p| (p.0 - mean_x) * (p.1 - mean_y)).sum();
    (logs.len() >= 2 && sxx > 0.0).then(|| sxy / sxx)
}

fn scaling_report(
    points: &[ScalingPoint],
    repeats: u32,
    load_before: Option<String>,
    load_after: Option<String>,
) -> Result<String, std::fmt::Error> {
    let mut out = String::new();
    let threads = std::thread::available_parallelism().map_or(0, |n| n.get());
    let sizes: Vec<String> = points.iter().map(|p| p.target.to_string()).collect();
    writeln!(out, "# Planner scaling curve\n")?;
    writeln!(
        out,
        "- machine: {}, {threads} threads; load average {} before, {} after",
        cpu_model().as_deref().unwrap_or("unknown CPU"),
        load_before.as_deref().unwrap_or("?"),
        load_after.as_deref().unwrap_or("?"),
    )?;
    writeln!(
        out,
        "- build: {}",
        if cfg!(debug_assertions) {
            "debug (numbers not meaningful)"
        } else {
            "release"
        }
    )?;
    writeln!(
        out,
        "- reproduce: `cargo run --release -- bench --scaling --sizes {} --repeats {repeats}`",
        sizes.join(",")
    )?;
    writeln!(
        out,
        "- scenarios: `jbt scenario --regions synthetic:R --weeks 26 --load 3.3 --seed 1` with \
         R = N / {REFERRALS_PER_REGION:.1} (the pressure of the presets; N = 10,000 is `stress`); \
         time = wall clock of one `planner::plan` call, median and maximum of {repeats} fresh \
         process{}; peak memory = the largest `VmHWM` of those processes (generation included)\n",
        if repeats == 1 { "" } else { "es" },
    )?;
    writeln!(
        out,
        "| N | regions | slots | referrals | median | max | peak memory | time exponent from previous |"
    )?;
    writeln!(out, "|--:|--:|--:|--:|--:|--:|--:|--:|")?;
    for (i, p) in points.iter().enumerate() {
        let local = i
            .checked_sub(1)
            .and_then(|j| points.get(j))
            .and_then(|prev| {
                fit_exponent(&[
                    (prev.size.referrals as f64, prev.median_millis),
                    (p.size.referrals as f64, p.median_millis),
                ])
            })
            .map_or("-".to_string(), |b| format!("{b:.2}"));
        writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} | {local} |",
            p.target,
            p.size.regions,
            p.size.slots,
            p.size.referrals,
            millis(Duration::from_secs_f64(p.median_millis / 1e3)),
            millis(Duration::from_secs_f64(p.max_millis / 1e3)),
            p.peak_rss_kib.map_or("unknown".into(), mib),
        )?;
    }
    let time: Vec<(f64, f64)> = points
        .iter()
        .map(|p| (p.size.referrals as f64, p.median_millis))
        .collect();
    let memory: Vec<(f64, f64)> = points
        .iter()
        .filter_map(|p| Some((p.size.referrals as f64, p.peak_rss_kib? as f64)))
        .collect();
    let show = |b: Option<f64>| b.map_or("?".to_string(), |b| format!("{b:.2}"));
    writeln!(
        out,
        "\nGrowth (least squares on log-log over all points): time ~ n^{}, peak memory ~ n^{} \
         (memory includes the fixed size of the process, so its exponent understates the \
         model's growth at small n).",
        show(fit_exponent(&time)),
        show(fit_exponent(&memory)),
    )?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fitted_exponent_of_a_power_law_is_its_power() {
        let square: Vec<(f64, f64)> = [100.0, 300.0, 1000.0, 3000.0]
            .iter()
            .map(|&n: &f64| (n, 0.5 * n.powi(2)))
            .collect();
        let b = fit_exponent(&square).expect("enough points");
        assert!((b - 2.0).abs() < 1e-9, "{b}");
        assert_eq!(fit_exponent(&[(10.0, 1.0)]), None);
        assert_eq!(fit_exponent(&[(10.0, 1.0), (10.0, 5.0)]), None);
    }
}
