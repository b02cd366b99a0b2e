//! What each `jbt` command does, behind the thin `main.rs`: reading files,
//! printing, exit codes. The work itself is in the domain modules.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;

use crate::advice;
use crate::auth::users::NewUser;
use crate::auth::Role;
use crate::config::{Email, RegionId, RegionsConfig};
use crate::generator;
use crate::planner::{self, Scenario};

/// Exit status for input that is not valid (scenario, configuration).
pub const EXIT_INVALID_INPUT: u8 = 2;

/// The region configuration compiled into the binary; it is tested, so a
/// failure here is a build problem, reported as such.
fn builtin() -> anyhow::Result<RegionsConfig> {
    RegionsConfig::builtin().context("the built-in config/regions.toml is not valid")
}

/// What `jbt plan` was asked.
pub struct PlanArgs {
    /// The scenario file; `-` is standard input.
    pub scenario: PathBuf,
    /// Add an explanation per referral.
    pub explain: bool,
    /// Print a table instead of JSON.
    pub table: bool,
    /// Print the solver's figures to standard error.
    pub stats: bool,
    /// Candidate arcs per referral in the first network, or `all`.
    pub initial_candidates: Option<String>,
    /// Cross-check the score with the general LP formulation.
    pub verify: bool,
    /// Write the full flow network here ([`planner::export`]).
    pub export_network: Option<PathBuf>,
}

fn read_input(path: &Path) -> anyhow::Result<String> {
    if path == Path::new("-") {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .context("reading standard input")?;
        Ok(text)
    } else {
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))
    }
}

/// `jbt plan`: exit 0 with the plan, 2 with one line per problem in the
/// scenario, 1 when planning itself fails (or, with `--verify`, when the
/// LP formulation finds another score). Never a partial plan.
pub fn plan(args: &PlanArgs) -> anyhow::Result<ExitCode> {
    let text = read_input(&args.scenario)?;
    let scenario = match Scenario::parse_json(&text, &mut |w| eprintln!("warning: {w}")) {
        Ok(s) => s,
        Err(errors) => {
            for problem in &errors.0 {
                eprintln!("{problem}");
            }
            return Ok(ExitCode::from(EXIT_INVALID_INPUT));
        }
    };
    let mut model = planner::model::Settings::default();
    match args.initial_candidates.as_deref() {
        None => {}
        Some("all") => model = planner::model::Settings::NAIVE,
        Some(n) => match n.parse() {
            Ok(n) if n > 0 => model.initial_candidates = n,
            _ => {
                eprintln!("--initial-candidates: a positive number or `all`, not {n:?}");
                return Ok(ExitCode::from(EXIT_INVALID_INPUT));
            }
        },
    }
    let outcome = planner::plan(
        &scenario,
        planner::Options {
            explain: args.explain,
            model,
            anonymous: false,
        },
    )?;
    if args.stats {
        eprintln!("{}", serde_json::to_string(&outcome.stats)?);
    }
    if args.table {
        print!("{}", planner::table::render(&scenario, &outcome.plan));
    } else {
        println!("{}", serde_json::to_string_pretty(&outcome.plan)?);
    }
    if let Some(path) = &args.export_network {
        std::fs::write(path, planner::export::network_text(&scenario)?)
            .with_context(|| format!("writing {}", path.display()))?;
    }
    if args.verify && !verify(&scenario, outcome.plan.score)? {
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}

/// What `jbt advise` was asked.
pub struct AdviseArgs {
    /// The scenario file; `-` is standard input.
    pub scenario: PathBuf,
    /// Most extra sessions in one answer.
    pub max_extra: usize,
    /// Most planner evaluations.
    pub budget: u64,
    /// Advice for this region only (its referrals; its and its
    /// neighbours' tables).
    pub region: Option<String>,
    /// Print a table instead of JSON.
    pub table: bool,
}

/// `jbt advise`: the fewest extra sessions (from the table's own session
/// times, [`advice::from_scenario_file`]) that bring every referral that
/// can still make the norm within it, or the trade-off. Exit 0 with the
/// advice, 2 when the scenario or `--max-extra` is not valid.
pub fn advise(args: &AdviseArgs) -> anyhow::Result<ExitCode> {
    let text = read_input(&args.scenario)?;
    let file = match planner::scenario::parse_file(&text, &mut |w| eprintln!("warning: {w}")) {
        Ok(file) => file,
        Err(errors) => return Ok(invalid(&errors.to_string())),
    };
    let candidates = match advice::from_scenario_file(&file) {
        Ok(candidates) => candidates,
        Err(errors) => return Ok(invalid(&errors.to_string())),
    };
    let options = advice::Options {
        max_extra: args.max_extra,
        budget: args.budget,
        region: args.region.clone(),
    };
    let advice = match advice::advise(&file, &candidates, options) {
        Ok(advice) => advice,
        Err(err @ advice::AdviceError::MaxExtra(_)) => {
            return Ok(invalid(&format!("--max-extra: {err}")))
        }
        Err(err @ advice::AdviceError::Region(_)) => {
            return Ok(invalid(&format!("--region: {err}")))
        }
        Err(err) => return Err(err.into()),
    };
    if args.table {
        let timezone = file.timezone.parse().unwrap_or(chrono_tz::UTC);
        print!("{}", advice::render_table(&advice, timezone));
    } else {
        println!("{}", serde_json::to_string_pretty(&advice)?);
    }
    Ok(ExitCode::SUCCESS)
}

/// Reports invalid input on standard error; the exit status for it.
fn invalid(message: &str) -> ExitCode {
    eprintln!("{message}");
    ExitCode::from(EXIT_INVALID_INPUT)
}

/// Solves `scenario` again as a general LP and says on standard error
/// whether its score equals the flow planner's `score`.
fn verify(scenario: &Scenario, score: planner::Score) -> anyhow::Result<bool> {
    let market = planner::model::Market::build(scenario);
    let lp = planner::verify::lp_score(scenario, &market)?;
    let show = |s: planner::Score| {
        format!(
            "unplanned {}, late_days_sq {}, cross_region {}, wait_days_sq {}",
            s.unplanned, s.late_days_sq, s.cross_region, s.wait_days_sq
        )
    };
    let agree = lp == score;
    eprintln!(
        "verify: flow {}; LP ({}) {}: {}",
        show(score),
        planner::verify::LP_BACKEND,
        show(lp),
        if agree {
            "the scores agree"
        } else {
            "THE SCORES DIFFER"
        }
    );
    Ok(agree)
}

/// What `jbt scenario` was asked.
pub struct ScenarioArgs {
    /// A benchmark preset instead of the options below (seed aside).
    pub preset: Option<String>,
    /// Seed of the random generator: the same seed, the same scenario.
    pub seed: u64,
    /// Weeks of slots to generate.
    pub weeks: u32,
    /// `gelderland` (the seven regions) or `national` (42 regions).
    pub regions: String,
    /// Arrivals as a share of capacity (1.0: as many referrals as slots).
    pub load: f64,
    /// The scenario's `now` (RFC 3339); default: the generator's own.
    pub now: Option<String>,
    /// Write here instead of to standard output.
    pub output: Option<PathBuf>,
}

/// `jbt scenario`: a generated scenario as JSON.
pub fn scenario(args: &ScenarioArgs) -> anyhow::Result<ExitCode> {
    let mut problems = Vec::new();
    let regions = args
        .regions
        .parse::<generator::RegionSet>()
        .map_err(|e| problems.push(format!("--regions: {e}")))
        .ok();
    let now = match &args.now {
        None => Some(generator::default_now()),
        Some(text) => chrono::DateTime::parse_from_rfc3339(text)
            .map_err(|e| problems.push(format!("--now: not an RFC 3339 instant {text:?} ({e})")))
            .ok(),
    };
    if !(args.load.is_finite() && args.load > 0.0) {
        problems.push(format!(
            "--load: must be a positive number, not {}",
            args.load
        ));
    }
    if args.weeks == 0 || args.weeks > 104 {
        problems.push(format!("--weeks: must be 1 to 104, not {}", args.weeks));
    }
    let (Some(regions), Some(now), true) = (regions, now, problems.is_empty()) else {
        for p in problems {
            eprintln!("{p}");
        }
        return Ok(ExitCode::from(EXIT_INVALID_INPUT));
    };
    let options = match args.preset.as_deref() {
        None => generator::GeneratorOptions {
            seed: args.seed,
            weeks: args.weeks,
            regions,
            load: args.load,
            now,
            ..generator::GeneratorOptions::default()
        },
        Some(name) => match generator::preset(name) {
            Some(preset) => generator::GeneratorOptions {
                seed: args.seed,
                ..preset
            },
            None => {
                eprintln!(
                    "--preset: unknown preset {name:?}; the presets are {}",
                    generator::PRESETS.join(", ")
                );
                return Ok(ExitCode::from(EXIT_INVALID_INPUT));
            }
        },
    };
    let file = generator::generate(&builtin()?, &options)?;
    let json = serde_json::to_string_pretty(&file)?;
    match &args.output {
        Some(path) => std::fs::write(path, json + "\n")
            .with_context(|| format!("writing {}", path.display()))?,
        None => println!("{json}"),
    }
    Ok(ExitCode::SUCCESS)
}

/// `jbt bench`: the benchmark report in Markdown on standard output.
/// `scaling` (sizes in referrals) gives the planner's scaling curve instead.
pub fn bench(
    presets: Vec<String>,
    repeats: u32,
    child: Option<String>,
    scaling: Option<Vec<usize>>,
) -> anyhow::Result<ExitCode> {
    let config = builtin()?;
    if let Some(preset) = child {
        crate::bench::run_child(&config, &preset)?;
    } else if let Some(sizes) = scaling {
        print!("{}", crate::bench::run_scaling(&sizes, repeats)?);
    } else {
        let report = crate::bench::run(&config, &crate::bench::BenchOptions { presets, repeats })?;
        print!("{report}");
    }
    Ok(ExitCode::SUCCESS)
}

/// `jbt check-config`: validates the region configuration.
pub fn check_config(path: Option<PathBuf>) -> anyhow::Result<ExitCode> {
    let loaded = match &path {
        Some(p) => RegionsConfig::load(p),
        None => RegionsConfig::builtin(),
    };
    match loaded {
        Ok(config) => {
            let municipalities: usize = config.regions.iter().map(|r| r.municipalities.len()).sum();
            println!(
                "ok: {} regions, {} municipalities, norm {} days, time zone {}",
                config.regions.len(),
                municipalities,
                config.norm_days,
                config.timezone
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(errors) => {
            eprintln!("{errors}");
            Ok(ExitCode::from(EXIT_INVALID_INPUT))
        }
    }
}

/// Flags shared by the service commands.
pub struct ServiceArgs {
    /// A settings file layered over `config/default.toml`.
    pub config: Option<PathBuf>,
    /// Address to listen on (`127.0.0.1:8080`), over the settings.
    pub listen: Option<String>,
    /// Directory for the SQLite file, mails and demo files, over the settings.
    pub data_dir: Option<PathBuf>,
}

fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn"));
    let _ = tracing_subscriber::fmt().with_env_filter(filter).try_init();
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")
}

/// Settings and region configuration, or exit status 2 with every problem.
fn load_settings(
    args: &ServiceArgs,
) -> Result<(crate::settings::Settings, RegionsConfig), ExitCode> {
    let mut overrides = Vec::new();
    if let Some(listen) = &args.listen {
        overrides.push(("server.listen", listen.clone()));
    }
    if let Some(dir) = &args.data_dir {
        overrides.push(("server.data_dir", dir.display().to_string()));
    }
    let loaded = crate::settings::Settings::load(args.config.as_deref(), &overrides)
        .and_then(|settings| settings.regions().map(|regions| (settings, regions)));
    loaded.map_err(|errors| {
        eprintln!("{errors}");
        ExitCode::from(EXIT_INVALID_INPUT)
    })
}

async fn state_for(
    args: &ServiceArgs,
    demo: bool,
) -> anyhow::Result<
    Result<
        (
            crate::state::AppState,
            tokio::sync::mpsc::UnboundedReceiver<String>,
        ),
        ExitCode,
    >,
> {
    let (mut settings, regions) = match load_settings(args) {
        Ok(loaded) => loaded,
        Err(code) => return Ok(Err(code)),
    };
    // The data directory holds the SQLite file, the mail files and the demo
    // credentials; it is made whichever database is used, private to this
    // user like everything in it.
    crate::files::create_private();
    std::fs::create_dir_all(&settings.data_dir)
        .with_context(|| format!("creating {}", settings.data_dir.display()))?;
    crate::files::tighten(&settings.data_dir)
        .with_context(|| format!("restricting access to {}", settings.data_dir.display()))?;
    if demo && settings.security.encryption_key.is_none() {
        settings.security.encryption_key = Some(crate::settings::Secret::new(
            crate::crypto::demo_key(&settings.data_dir)?,
        ));
    }
    let built =
        crate::startup::build_state(settings, regions, crate::startup::system_clock()).await?;
    Ok(Ok(built))
}

/// `jbt serve`: the service without demo data.
pub fn serve(args: ServiceArgs) -> anyhow::Result<ExitCode> {
    init_logging();
    runtime()?.block_on(async {
        let (state, requests) = match state_for(&args, false).await? {
            Ok(built) => built,
            Err(code) => return Ok(code),
        };
        crate::startup::serve(state, requests, |addr| {
            println!("jbt: listening on http://{addr}")
        })
        .await?;
        Ok(ExitCode::SUCCESS)
    })
}

/// `jbt demo`: seeds demo users and referrals (once), then serves.
pub fn demo(args: ServiceArgs) -> anyhow::Result<ExitCode> {
    init_logging();
    runtime()?.block_on(async {
        let (state, requests) = match state_for(&args, true).await? {
            Ok(built) => built,
            Err(code) => return Ok(code),
        };
        crate::slots::sync_horizon(&state).await?;
        let users = crate::demo::seed(&state).await?;
        let run = crate::jobs::replan_now(&state, "demo start").await?;
        println!(
            "jbt demo: {} referrals planned ({} at a neighbouring table, {} over the norm), {} without a slot",
            run.planned, run.cross_region, run.late, run.unplanned
        );
        println!(
            "Demo users (role, e-mail, password, API token; also in {}):",
            state.settings.data_dir.join("demo-credentials.json").display()
        );
        for user in &users {
            println!("  {:<18} {:<54} {}  {}", user.role, user.email, user.password, user.token);
        }
        crate::startup::serve(state, requests, |addr| {
            println!("jbt demo: open http://{addr}  (API http://{addr}/api/v1, OpenAPI http://{addr}/api/openapi.json)");
        })
        .await?;
        Ok(ExitCode::SUCCESS)
    })
}

/// `jbt migrate`: brings the database schema up to date.
pub fn migrate(args: ServiceArgs) -> anyhow::Result<ExitCode> {
    init_logging();
    runtime()?.block_on(async {
        match state_for(&args, false).await? {
            Ok(_) => {
                println!("migrations applied");
                Ok(ExitCode::SUCCESS)
            }
            Err(code) => Ok(code),
        }
    })
}

/// What `jbt user add` was asked.
pub struct UserAddArgs {
    /// `coordinator`, `chair`, `secretary`, `referrer`, `municipal_contact` or `admin`.
    pub role: String,
    /// Chairs: their region's id.
    pub region: Option<String>,
    /// Referrers: their organisation.
    pub organisation: Option<String>,
    /// Municipal contacts: their municipality (CBS code or name).
    pub municipality: Option<String>,
    /// The user's work address.
    pub email: String,
}

/// `jbt user add`: prints the one-time password and an API token.
pub fn user_add(args: ServiceArgs, user: &UserAddArgs) -> anyhow::Result<ExitCode> {
    runtime()?.block_on(async {
        let (state, _requests) = match state_for(&args, false).await? {
            Ok(built) => built,
            Err(code) => return Ok(code),
        };
        match parse_new_user(&state.regions, user) {
            Ok(new) => {
                let created = crate::auth::users::create_user(
                    &state.store,
                    new,
                    state.settings.web.token_days,
                    state.now(),
                )
                .await?;
                crate::auth::users::require_password_change(&state.store, created.id).await?;
                println!("created user {} ({})", user.email, user.role);
                println!(
                    "password (to be changed at the first login): {}",
                    created.password
                );
                println!("api token: {}", created.token);
                Ok(ExitCode::SUCCESS)
            }
            Err(problems) => {
                for p in problems {
                    eprintln!("{p}");
                }
                Ok(ExitCode::from(EXIT_INVALID_INPUT))
            }
        }
    })
}

/// `jbt user add` arguments to a new user, or every problem with them.
pub fn parse_new_user(regions: &RegionsConfig, args: &UserAddArgs) -> Result<NewUser, Vec<String>> {
    let mut problems = Vec::new();
    let role = Role::parse(&args.role);
    if role.is_none() {
        problems.push(format!(
            "--role: unknown role {:?} ({})",
            args.role,
            Role::names()
        ));
    }
    let email = Email::parse(&args.email)
        .map_err(|e| problems.push(format!("EMAIL: {e}")))
        .ok();
    let region = args.region.as_deref().and_then(|r| {
        let id = RegionId::parse(r)
            .ok()
            .filter(|id| regions.region(id).is_some());
        if id.is_none() {
            problems.push(format!("--region: unknown region {r:?}"));
        }
        id
    });
    let municipality = args.municipality.as_deref().and_then(|m| {
        let found = regions.municipality(m).map(|(_, m)| m.cbs.clone());
        if found.is_none() {
            problems.push(format!("--municipality: unknown municipality {m:?}"));
        }
        found
    });
    match (role, email, problems.is_empty()) {
        (Some(role), Some(email), true) => {
            let user = NewUser {
                email,
                role,
                region,
                organisation: args.organisation.clone(),
                municipality,
            };
            user.validate(regions).map_err(|fields| {
                fields
                    .into_iter()
                    .map(|f| format!("--{}: {}", f.field, f.message))
                    .collect::<Vec<_>>()
            })?;
            Ok(user)
        }
        _ => Err(problems),
    }
}

/// `jbt audit archive`: audit rows older than the retention period to a
/// file in the data directory, then out of the database.
pub fn audit_archive(
    args: ServiceArgs,
    before: Option<chrono::NaiveDate>,
) -> anyhow::Result<ExitCode> {
    runtime()?.block_on(async {
        let (state, _requests) = match state_for(&args, false).await? {
            Ok(built) => built,
            Err(code) => return Ok(code),
        };
        let now = state.now();
        let result = crate::auth::audit_archive::archive(
            &state.store,
            &state.settings.data_dir,
            before,
            now.date_naive(),
            state.settings.audit.retention_days,
            now,
        )
        .await;
        match result {
            Ok(done) => {
                match &done.file {
                    Some(file) => {
                        println!("archived {} audit rows to {}", done.rows, file.display())
                    }
                    None => println!("no audit rows to archive"),
                }
                Ok(ExitCode::SUCCESS)
            }
            Err(err) if err.is::<crate::auth::audit_archive::ArchiveRefused>() => {
                eprintln!("jbt: {err}");
                Ok(ExitCode::from(EXIT_INVALID_INPUT))
            }
            Err(err) => Err(err),
        }
    })
}
