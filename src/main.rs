//! The `jbt` command: parses the command line and hands over to the library.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use jbt::commands;

#[derive(Parser)]
#[command(
    name = "jbt",
    version,
    about = "Plans the Jeugdbeschermingstafels of the Gelderland regions"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Plan a scenario file and print the plan (JSON by default).
    Plan {
        /// The scenario (JSON, format v1); `-` reads standard input.
        #[arg(long)]
        scenario: PathBuf,
        /// Add a reason in Dutch per referral, with the next best alternatives.
        #[arg(long)]
        explain: bool,
        #[arg(long, value_enum, default_value_t = Format::Json)]
        format: Format,
        /// Print solver figures to standard error.
        #[arg(long)]
        stats: bool,
        /// Candidate arcs per referral in the first network (`all` for the
        /// naive full network); for measurements.
        #[arg(long, hide = true)]
        initial_candidates: Option<String>,
        /// Also solve the scenario as a general LP (good_lp, microlp) and
        /// say on standard error whether both scores agree; exit status 1
        /// if not. Slow on large scenarios.
        #[arg(long)]
        verify: bool,
        /// Also write the full min-cost flow network with its exact weights
        /// to this file (for `benches/ortools_mcf.py`).
        #[arg(long)]
        export_network: Option<PathBuf>,
    },
    /// Advise the fewest extra sessions that bring every referral that can
    /// still make the norm within it (JSON by default). Candidates: each
    /// table's own session times on the other weekdays of its weeks.
    Advise {
        /// The scenario (JSON, format v1); `-` reads standard input.
        #[arg(long)]
        scenario: PathBuf,
        /// Most extra sessions in one answer (1 to 10).
        #[arg(long, default_value_t = 3)]
        max_extra: usize,
        /// Most plans to make before answering with the best found (the
        /// answer then says it is not proven optimal).
        #[arg(long, default_value_t = 20_000)]
        budget: u64,
        /// Advice for one region: only its referrals count, and only
        /// sessions at its own table or a neighbour's are tried.
        #[arg(long)]
        region: Option<String>,
        #[arg(long, value_enum, default_value_t = Format::Json)]
        format: Format,
    },
    /// Write a realistic generated scenario as JSON.
    Scenario {
        #[arg(long, default_value_t = 1)]
        seed: u64,
        #[arg(long, default_value_t = 8)]
        weeks: u32,
        /// `gelderland` or `synthetic:N`.
        #[arg(long, default_value = "gelderland")]
        regions: String,
        /// Scale factor on arrivals.
        #[arg(long, default_value_t = 1.0)]
        load: f64,
        /// The scenario's `now` (RFC 3339); default Monday 2026-11-30 08:00.
        #[arg(long)]
        now: Option<String>,
        /// Write here instead of standard output.
        #[arg(long, short)]
        output: Option<PathBuf>,
        /// A benchmark preset (gelderland, national, stress, overload)
        /// instead of the options above (the seed still applies).
        #[arg(long)]
        preset: Option<String>,
    },
    /// Measure the planner on generated scenarios (see BENCHMARKS.md).
    Bench {
        /// Presets to run: gelderland, national, stress, overload.
        #[arg(long = "preset", default_values_t = jbt::generator::PRESETS.map(String::from))]
        presets: Vec<String>,
        #[arg(long, default_value_t = 5)]
        repeats: u32,
        /// Internal: plan one preset and report time and memory as JSON.
        #[arg(long, hide = true)]
        child: Option<String>,
        /// The planner's scaling curve instead: time and memory from 100 to
        /// 10,000 referrals, with the fitted growth exponent.
        #[arg(long)]
        scaling: bool,
        /// Points of the scaling curve, in referrals.
        #[arg(long, value_delimiter = ',', default_values_t = jbt::bench::SCALING_SIZES)]
        sizes: Vec<usize>,
    },
    /// Run the service with demo data on SQLite (or DATABASE_URL).
    Demo {
        #[command(flatten)]
        service: ServiceArgs,
    },
    /// Run the service.
    Serve {
        #[command(flatten)]
        service: ServiceArgs,
    },
    /// Run the database migrations and exit.
    Migrate {
        #[command(flatten)]
        service: ServiceArgs,
    },
    /// Manage users.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// The audit log's retention.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Check the region configuration and print a summary.
    CheckConfig {
        /// Default: the built-in `config/regions.toml`.
        #[arg(long)]
        regions: Option<PathBuf>,
    },
}

#[derive(clap::Args)]
struct ServiceArgs {
    /// Settings file layered over config/default.toml.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Address to listen on, e.g. 127.0.0.1:8080.
    #[arg(long)]
    listen: Option<String>,
    /// Directory for the SQLite file and mails written to disk.
    #[arg(long)]
    data_dir: Option<PathBuf>,
}

impl From<ServiceArgs> for commands::ServiceArgs {
    fn from(a: ServiceArgs) -> Self {
        commands::ServiceArgs {
            config: a.config,
            listen: a.listen,
            data_dir: a.data_dir,
        }
    }
}

#[derive(Subcommand)]
enum UserCommand {
    /// Create a user; prints the one-time password and an API token.
    Add {
        #[arg(long)]
        role: String,
        /// Chairs: their region id.
        #[arg(long)]
        region: Option<String>,
        /// Referrers: their organisation.
        #[arg(long)]
        organisation: Option<String>,
        /// Municipal contacts: their municipality (CBS code or name).
        #[arg(long)]
        municipality: Option<String>,
        email: String,
        #[command(flatten)]
        service: ServiceArgs,
    },
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Write audit rows older than the retention period to a file in the
    /// data directory, then remove them from the database (recorded in the
    /// log itself).
    Archive {
        /// Archive rows written before this date (YYYY-MM-DD, UTC midnight);
        /// default and latest allowed: today minus audit.retention_days.
        #[arg(long)]
        before: Option<chrono::NaiveDate>,
        #[command(flatten)]
        service: ServiceArgs,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Json,
    Table,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Plan {
            scenario,
            explain,
            format,
            stats,
            initial_candidates,
            verify,
            export_network,
        } => commands::plan(&commands::PlanArgs {
            scenario,
            explain,
            table: matches!(format, Format::Table),
            stats,
            initial_candidates,
            verify,
            export_network,
        }),
        Command::Advise {
            scenario,
            max_extra,
            budget,
            region,
            format,
        } => commands::advise(&commands::AdviseArgs {
            scenario,
            max_extra,
            budget,
            region,
            table: matches!(format, Format::Table),
        }),
        Command::Scenario {
            seed,
            weeks,
            regions,
            load,
            now,
            output,
            preset,
        } => commands::scenario(&commands::ScenarioArgs {
            seed,
            weeks,
            regions,
            load,
            now,
            output,
            preset,
        }),
        Command::Bench {
            presets,
            repeats,
            child,
            scaling,
            sizes,
        } => commands::bench(presets, repeats, child, scaling.then_some(sizes)),
        Command::CheckConfig { regions } => commands::check_config(regions),
        Command::Demo { service } => commands::demo(service.into()),
        Command::Serve { service } => commands::serve(service.into()),
        Command::Migrate { service } => commands::migrate(service.into()),
        Command::User {
            command:
                UserCommand::Add {
                    role,
                    region,
                    organisation,
                    municipality,
                    email,
                    service,
                },
        } => commands::user_add(
            service.into(),
            &commands::UserAddArgs {
                role,
                region,
                organisation,
                municipality,
                email,
            },
        ),
        Command::Audit {
            command: AuditCommand::Archive { before, service },
        } => commands::audit_archive(service.into(), before),
    };
    result.unwrap_or_else(|err| {
        eprintln!("jbt: {err:#}");
        ExitCode::FAILURE
    })
}
