//! `jbt bench`: how fast and how good the planner is on generated scenarios.
//!
//! For each preset of [`crate::generator::preset`] (seed 1) the
//! report gives the wall-clock time of [`planner::plan()`] (median and maximum
//! of a few runs), the solver's figures, the peak memory of a fresh process
//! that generates and plans the scenario once, and the plan's score next to
//! first come, first served, the way chairs plan by hand.
//!
//! Peak memory is measured in a child process (this executable, run as
//! `jbt bench --child PRESET`), so one preset's allocations do not hide
//! another's. It is the child's `VmHWM` from `/proc/self/status` (Linux).
//!
//! This is a report, not a test: numbers depend on the machine, so the
//! targets are shown next to them rather than asserted.

use std::fmt::Write as _;
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context};
use serde::{Deserialize, Serialize};

use crate::config::RegionsConfig;
use crate::generator;
use crate::planner::baseline::first_come_first_served;
use crate::planner::scenario::ScenarioFile;
use crate::planner::{self, Options, Plan, Scenario, Score, SolveStats};

mod scaling;
mod warm;
pub use scaling::{fit_exponent, run_scaling, ScalingPoint};

/// What to run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BenchOptions {
    /// Preset names: `gelderland`, `national`, `stress`.
    pub presets: Vec<String>,
    /// Planner runs per preset; the report shows their median and maximum.
    pub repeats: u32,
}

impl Default for BenchOptions {
    fn default() -> Self {
        BenchOptions {
            presets: generator::PRESETS.iter().map(|p| p.to_string()).collect(),
            repeats: 5,
        }
    }
}

/// The command that reproduces the report.
pub const REPRODUCE: &str = "cargo run --release -- bench";

/// Targets shown next to the measurements.
/// Peak memory target of issue 11, every preset.
const MEMORY_TARGET_KIB: u64 = 300 * 1024;

/// Time targets of issue 11 on a 2-core machine (`planner::plan`).
fn time_target(preset: &str) -> Option<Duration> {
    match preset {
        "gelderland" => Some(Duration::from_millis(1)),
        "national" => Some(Duration::from_millis(30)),
        "stress" => Some(Duration::from_millis(1500)),
        "overload" => Some(Duration::from_millis(2500)),
        _ => None,
    }
}

/// What the child process prints: one JSON line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChildReport {
    /// The preset, or `scale:N` for a point of the scaling curve.
    pub preset: String,
    /// Wall-clock time of one [`planner::plan()`] call.
    pub millis: f64,
    /// Peak resident memory of the whole child process, if known.
    pub peak_rss_kib: Option<u64>,
    /// Size of the planned scenario (the scaling curve's x axis).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<ScenarioSize>,
}

/// How big a scenario is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScenarioSize {
    /// Number of regions (tables).
    pub regions: usize,
    /// Number of slots.
    pub slots: usize,
    /// Number of referrals.
    pub referrals: usize,
}

impl ScenarioSize {
    fn of(scenario: &Scenario) -> ScenarioSize {
        ScenarioSize {
            regions: scenario.regions.len(),
            slots: scenario.slots.len(),
            referrals: scenario.referrals.len(),
        }
    }
}

/// Open referrals per synthetic region at load 3.3 (the `stress` preset:
/// 300 regions, 10,086 referrals), so every point of the scaling curve has
/// the presets' pressure and only its size changes.
const REFERRALS_PER_REGION: f64 = 10_086.0 / 300.0;

/// The default points of `jbt bench --scaling`.
pub const SCALING_SIZES: [usize; 5] = [100, 300, 1_000, 3_000, 10_000];

/// Generator options for a scenario of about `referrals` open referrals:
/// synthetic regions, 26 weeks, load 3.3, seed 1 (the `stress` preset is
/// the point at 10,000).
pub fn scaling_options(referrals: usize) -> generator::GeneratorOptions {
    let regions = (referrals as f64 / REFERRALS_PER_REGION).round().max(2.0) as usize;
    generator::GeneratorOptions {
        weeks: 26,
        regions: generator::RegionSet::Synthetic(regions),
        load: 3.3,
        ..generator::GeneratorOptions::default()
    }
}

/// Generator options for a preset name or a `scale:N` point.
fn options_of(spec: &str) -> anyhow::Result<generator::GeneratorOptions> {
    if let Some(n) = spec.strip_prefix("scale:") {
        return match n.parse::<usize>() {
            Ok(n) if (1..=100_000).contains(&n) => Ok(scaling_options(n)),
            _ => bail!("scale:N needs N from 1 to 100000, not {n:?}"),
        };
    }
    generator::preset(spec).ok_or_else(|| {
        anyhow!(
            "unknown preset {spec:?}; the presets are {}",
            generator::PRESETS.join(", ")
        )
    })
}

/// Peak resident set size of this process so far (`VmHWM` in
/// `/proc/self/status`), in KiB; `None` where that file does not exist.
pub fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status.lines().find_map(|line| {
        let rest = line.strip_prefix("VmHWM:")?;
        rest.trim().trim_end_matches("kB").trim().parse().ok()
    })
}

/// A preset's (or a `scale:N` point's) scenario file.
fn file_of(config: &RegionsConfig, preset: &str) -> anyhow::Result<ScenarioFile> {
    let options = options_of(preset)?;
    generator::generate(config, &options)
        .with_context(|| format!("generating the {preset} scenario"))
}

/// A preset's (or a `scale:N` point's) scenario, validated.
fn scenario_of(config: &RegionsConfig, preset: &str) -> anyhow::Result<Scenario> {
    let file = file_of(config, preset)?;
    Scenario::from_file(&file).map_err(|e| anyhow!("the {preset} scenario is not valid:\n{e}"))
}

/// `jbt bench --child PRESET`: generates and plans the preset once and
/// prints one JSON line (`preset`, `millis`, `peak_rss_kib`) on stdout.
///
/// # Errors
///
/// An unknown preset, a generated scenario that is not valid, or a failed
/// plan.
pub fn run_child(config: &RegionsConfig, preset: &str) -> anyhow::Result<()> {
    let scenario = scenario_of(config, preset)?;
    let started = Instant::now();
    let outcome = planner::plan(&scenario, Options::default())?;
    let millis = started.elapsed().as_secs_f64() * 1e3;
    drop(outcome);
    let report = ChildReport {
        preset: preset.to_string(),
        millis,
        peak_rss_kib: peak_rss_kib(),
        size: Some(ScenarioSize::of(&scenario)),
    };
    println!("{}", serde_json::to_string(&report)?);
    Ok(())
}

/// Runs `run_child` for `preset` in a fresh process and reads its line.
fn measure_in_child(preset: &str) -> anyhow::Result<ChildReport> {
    let exe = std::env::current_exe().context("finding the jbt executable")?;
    let output = Command::new(&exe)
        .args(["bench", "--child", preset])
        .output()
        .with_context(|| format!("running {} bench --child {preset}", exe.display()))?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        bail!(
            "the child process failed ({}): {}",
            output.status,
            stderr.trim()
        );
    }
    stdout
        .lines()
        .rev()
        .find_map(|line| serde_json::from_str::<ChildReport>(line).ok())
        .filter(|r| r.preset == preset)
        .ok_or_else(|| {
            anyhow!(
                "the child process printed no report line: {:?}",
                stdout.trim()
            )
        })
}

/// Plain totals next to the score, in units a chair counts in.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Totals {
    late_days: i64,
    late_referrals: usize,
    cross_region: usize,
}

fn totals(scenario: &Scenario, slot_of: &[Option<usize>]) -> Totals {
    let mut t = Totals::default();
    for (r, referral) in scenario.referrals.iter().enumerate() {
        let slot = slot_of
            .get(r)
            .copied()
            .flatten()
            .map(|s| &scenario.slots[s]);
        let date = slot.map_or(scenario.unplanned_date, |s| s.date);
        let late = (date - referral.due).num_days().max(0);
        t.late_days += late;
        t.late_referrals += usize::from(late > 0);
        t.cross_region += usize::from(slot.is_some_and(|s| s.region != referral.region));
    }
    t
}

/// Everything measured for one preset.
struct Measured {
    preset: String,
    regions: usize,
    slots: usize,
    referrals: usize,
    pinned: usize,
    median: Duration,
    max: Duration,
    stats: SolveStats,
    ours: (Score, Totals),
    baseline: (Score, Totals),
    child: Result<ChildReport, String>,
    warm: Vec<warm::WarmReplan>,
}

fn measure(config: &RegionsConfig, preset: &str, repeats: u32) -> anyhow::Result<Measured> {
    let scenario = scenario_of(config, preset)?;
    let mut times = Vec::new();
    let mut last = None;
    for _ in 0..repeats.max(1) {
        let started = Instant::now();
        let outcome = planner::plan(&scenario, Options::default())
            .with_context(|| format!("planning the {preset} scenario"))?;
        times.push(started.elapsed());
        last = Some(outcome);
    }
    let outcome = last.ok_or_else(|| anyhow!("no planner run"))?;
    times.sort();
    let median = times[times.len() / 2];
    let max = times[times.len() - 1];
    let fcfs = first_come_first_served(&scenario);
    Ok(Measured {
        preset: preset.to_string(),
        regions: scenario.regions.len(),
        slots: scenario.slots.len(),
        referrals: scenario.referrals.len(),
        pinned: scenario.pinned.len(),
        median,
        max,
        ours: (outcome.plan.score, totals(&scenario, &outcome.slot_of)),
        baseline: (Plan::score_of(&scenario, &fcfs), totals(&scenario, &fcfs)),
        stats: outcome.stats,
        child: measure_in_child(preset).map_err(|e| format!("{e:#}")),
        warm: warm::measure(&file_of(config, preset)?, repeats)
            .with_context(|| format!("the warm re-plan of {preset}"))?,
    })
}

/// Runs the benchmark and returns the report in Markdown.
///
/// # Errors
///
/// An unknown preset, a generated scenario that is not valid, a failed
/// plan or warm re-plan, or a report that cannot be written.
pub fn run(config: &RegionsConfig, options: &BenchOptions) -> anyhow::Result<String> {
    for preset in &options.presets {
        if generator::preset(preset).is_none() {
            bail!(
                "unknown preset {preset:?}; the presets are {}",
                generator::PRESETS.join(", ")
            );
        }
    }
    let mut measured = Vec::new();
    for preset in &options.presets {
        measured.push(measure(config, preset, options.repeats)?);
    }
    Ok(report(&measured, options.repeats.max(1))?)
}

fn millis(d: Duration) -> String {
    let ms = d.as_secs_f64() * 1e3;
    if ms < 10.0 {
        format!("{ms:.1} ms")
    } else {
        format!("{ms:.0} ms")
    }
}

fn mib(kib: u64) -> String {
    format!("{:.0} MiB", kib as f64 / 1024.0)
}

fn verdict(ok: bool) -> &'static str {
    if ok {
        "yes"
    } else {
        "**no**"
    }
}

fn cpu_model() -> Option<String> {
    let info = std::fs::read_to_string("/proc/cpuinfo").ok()?;
    info.lines().find_map(|line| {
        let (key, value) = line.split_once(':')?;
        (key.trim() == "model name").then(|| value.trim().to_string())
    })
}

fn report(measured: &[Measured], repeats: u32) -> Result<String, std::fmt::Error> {
    let mut out = String::new();
    let threads = std::thread::available_parallelism().map_or(0, |n| n.get());
    let build = if cfg!(debug_assertions) {
        "debug (numbers not meaningful)"
    } else {
        "release"
    };
    writeln!(out, "# Planner benchmark\n")?;
    writeln!(
        out,
        "- machine: {}, {threads} threads",
        cpu_model().as_deref().unwrap_or("unknown CPU")
    )?;
    writeln!(out, "- build: {build}")?;
    writeln!(out, "- reproduce: `{REPRODUCE}`")?;
    writeln!(
        out,
        "- scenarios: `jbt scenario` presets, seed 1, now {}; time = wall clock of one \
         `planner::plan` call, median and maximum of {repeats} run{}; peak memory = `VmHWM` \
         of a fresh process that generates and plans the scenario once\n",
        generator::default_now().to_rfc3339(),
        if repeats == 1 { "" } else { "s" },
    )?;

    writeln!(out, "## Time and memory\n")?;
    writeln!(
        out,
        "| preset | regions | slots | referrals | pinned | median | max | target | within | peak memory | within 300 MiB |"
    )?;
    writeln!(out, "|---|--:|--:|--:|--:|--:|--:|--:|---|--:|---|")?;
    for m in measured {
        let target = time_target(&m.preset);
        let (memory, memory_ok) = match &m.child {
            Ok(ChildReport {
                peak_rss_kib: Some(kib),
                ..
            }) => (mib(*kib), verdict(*kib < MEMORY_TARGET_KIB)),
            Ok(_) => ("unknown".to_string(), "?"),
            Err(_) => ("failed (see below)".to_string(), "?"),
        };
        writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            m.preset,
            m.regions,
            m.slots,
            m.referrals,
            m.pinned,
            millis(m.median),
            millis(m.max),
            target.map_or("-".to_string(), |t| format!("< {}", millis(t))),
            target.map_or("-", |t| verdict(m.median < t)),
            memory,
            memory_ok,
        )?;
    }
    for m in measured {
        if let Err(e) = &m.child {
            writeln!(
                out,
                "\nPeak memory of {} could not be measured: {e}",
                m.preset
            )?;
        }
    }

    writeln!(out, "\n## Warm re-plan: one change\n")?;
    writeln!(
        out,
        "After a plan, one referral arrives, or the referral with the earliest tentative \
         place is booked there, or it is withdrawn, or that place's session is cancelled, or \
         a session is added the next day at the same table and time, or a week after the \
         last session (the day unplanned referrals count at moves a week). The service's \
         `WarmPlanner` goes on from the kept network; `plan_from` builds everything again and \
         starts from the previous placements; `plan` starts from nothing (medians of \
         {repeats}).\n"
    )?;
    writeln!(
        out,
        "| preset | change | warm planner | went on from the kept network | its pivots | its pricing rounds | plan_from | cold plan | moves of earlier referrals | same score and moves |"
    )?;
    writeln!(out, "|---|---|--:|---|--:|--:|--:|--:|--:|---|")?;
    for m in measured {
        for w in &m.warm {
            writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
                m.preset,
                w.change,
                millis(w.warm),
                if w.went_on { "yes" } else { "**no**" },
                w.pivots,
                w.pricing_rounds,
                millis(w.from_placements),
                millis(w.cold),
                w.moves,
                verdict(w.same_score),
            )?;
        }
    }

    writeln!(out, "\n## Model\n")?;
    writeln!(
        out,
        "| preset | referrals to plan | slot classes | candidate pairs | arcs in network | pivots | pricing rounds |"
    )?;
    writeln!(out, "|---|--:|--:|--:|--:|--:|---|")?;
    for m in measured {
        let s = &m.stats;
        writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} |",
            m.preset,
            s.referrals_to_plan,
            s.slot_classes,
            s.candidate_pairs,
            s.arcs_in_model,
            s.pivots,
            s.pricing_rounds,
        )?;
    }

    writeln!(
        out,
        "\n## Plan quality: planner against first come, first served\n"
    )?;
    writeln!(
        out,
        "Score levels (lower is better, compared in this order) and plain totals.\n"
    )?;
    writeln!(
        out,
        "| preset | plan | unplanned | late_days_sq | cross_region | wait_days_sq | late days | late referrals | cross-region moves |"
    )?;
    writeln!(out, "|---|---|--:|--:|--:|--:|--:|--:|--:|")?;
    for m in measured {
        for (name, (score, t)) in [
            ("planner", m.ours),
            ("first come, first served", m.baseline),
        ] {
            writeln!(
                out,
                "| {} | {name} | {} | {} | {} | {} | {} | {} | {} |",
                m.preset,
                score.unplanned,
                score.late_days_sq,
                score.cross_region,
                score.wait_days_sq,
                t.late_days,
                t.late_referrals,
                t.cross_region,
            )?;
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn peak_rss_is_read_from_proc_on_linux() {
        if std::path::Path::new("/proc/self/status").exists() {
            let kib = peak_rss_kib().expect("VmHWM present");
            assert!(kib > 0);
        }
    }

    #[test]
    fn the_child_line_round_trips() {
        let line = r#"{"preset":"gelderland","millis":12.5,"peak_rss_kib":20480}"#;
        let report: ChildReport = serde_json::from_str(line).expect("parses");
        assert_eq!(report.peak_rss_kib, Some(20_480));
        assert_eq!(serde_json::to_string(&report).expect("serializes"), line);
    }

    #[test]
    fn scaling_points_keep_the_pressure_of_the_stress_preset() {
        let stress = generator::preset("stress").expect("preset");
        // The stress preset holds 10,086 referrals on 300 regions.
        let point = scaling_options(10_086);
        assert_eq!(point.regions, stress.regions);
        assert_eq!((point.weeks, point.load), (stress.weeks, stress.load));
        assert_eq!(
            scaling_options(100).regions,
            generator::RegionSet::Synthetic(3)
        );
        assert!(options_of("scale:0").is_err());
        assert!(options_of("scale:ten").is_err());
        assert!(options_of("gelderland").is_ok());
    }
}
