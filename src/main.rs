//! The `niryat` binary: parses the command line, sets up logging, and wires the library.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand};
use tracing_subscriber::EnvFilter;

use niryat::config::{DEFAULT_CONFIG_PATH, Settings, SourceSettings};
use niryat::core::eval;
use niryat::notify::{BotToken, TOKEN_ENV};
use niryat::pipeline::{App, BuildError, Engine};
use niryat::{schedule, shutdown};

mod extract_cmd;

/// Watches Chhattisgarh district news for export-promotion meeting reports and posts them to a
/// Telegram channel. The bot token is read from the TELEGRAM_BOT_TOKEN environment variable only;
/// without it, niryat runs in dry-run and prints what it would post.
#[derive(Parser)]
#[command(name = "niryat", version, about)]
struct Cli {
    /// Config file.
    #[arg(long, global = true, env = "NIRYAT_CONFIG", default_value = DEFAULT_CONFIG_PATH)]
    config: PathBuf,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the daemon: each source on its cron schedule until SIGINT or SIGTERM.
    Run,
    /// One pass over every source, deliver what is pending, then exit.
    Once,
    /// Validate the config and list the sources.
    Check,
    /// Fetch, extract and classify one source; print each item with its verdict. Stores nothing, posts nothing.
    TestSource {
        /// The source id from the config.
        id: String,
        /// How many new listing items to fetch and classify (newest first).
        #[arg(long, default_value_t = 10)]
        limit: usize,
    },
    /// Walk a source back to a date and record what it finds; with --post, also post the relevant
    /// reports (oldest first, within the channel's rate limit).
    Backfill {
        /// The source id from the config.
        id: String,
        /// First day to reach back to (YYYY-MM-DD).
        #[arg(long)]
        since: chrono::NaiveDate,
        /// Post what is found (default: record only).
        #[arg(long)]
        post: bool,
    },
    /// Show what niryat reads from article pages (saved files or URLs): title, date and where it
    /// came from, body, and the method used. URLs are fetched politely with the config's [fetch].
    Extract {
        /// Saved pages (files) or http(s) URLs.
        #[arg(required = true, value_name = "FILE|URL")]
        inputs: Vec<String>,
        /// One JSON object per input per line: input, title, published, body, method, date_source.
        #[arg(long)]
        json: bool,
        /// Read with this source's [sources.article] selectors (and fetch with its options).
        #[arg(long, value_name = "ID")]
        source: Option<String>,
    },
    /// Measure the detector on a JSON Lines file (title, text, label, state, district).
    Eval {
        file: PathBuf,
        /// Print one JSON object on the last line.
        #[arg(long)]
        json: bool,
    },
    /// Database maintenance.
    Db {
        #[command(subcommand)]
        command: DbCommand,
    },
}

#[derive(Subcommand)]
enum DbCommand {
    /// Copy the live database to PATH (SQLite online backup).
    Backup { path: PathBuf },
}

/// Exit codes: 0 success, 1 fatal runtime error, 2 bad config or input. Our error types write
/// their causes into their own message, so printing the top error prints the whole chain once.
#[derive(Debug)]
enum Failure {
    Fatal(anyhow::Error),
    Usage(anyhow::Error),
}

impl From<BuildError> for Failure {
    fn from(e: BuildError) -> Self {
        match e {
            BuildError::Vocabulary(_) => Self::Usage(e.into()),
            _ => Self::Fatal(e.into()),
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging();
    let result = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::Fatal(e.into()))
        .and_then(|rt| rt.block_on(dispatch(cli)));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Usage(e)) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
        Err(Failure::Fatal(e)) => {
            eprintln!("error: {e}");
            ExitCode::from(1)
        }
    }
}

fn init_logging() {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,teloxide=warn,teloxide_core=warn"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr)
        .init();
}

fn load(cli: &Cli) -> Result<Settings, Failure> {
    Settings::load(&cli.config).map_err(|e| Failure::Usage(e.into()))
}

/// The source `id` of the config, or a usage error naming the config file.
fn find_source<'a>(settings: &'a Settings, id: &str) -> Result<&'a SourceSettings, Failure> {
    settings.source(id).ok_or_else(|| {
        Failure::Usage(anyhow::anyhow!(
            "{}: no source with id {id:?} (see `niryat check`)",
            settings.file.display()
        ))
    })
}

async fn dispatch(cli: Cli) -> Result<(), Failure> {
    match &cli.command {
        Command::Check => check(&cli),
        Command::Eval { file, json } => run_eval(file, *json),
        Command::Extract {
            inputs,
            json,
            source,
        } => extract(&cli, inputs, *json, source.as_deref()).await,
        Command::TestSource { id, limit } => test_source(&cli, id, *limit).await,
        Command::Once => once(&cli).await,
        Command::Backfill { id, since, post } => backfill(&cli, id, *since, *post).await,
        Command::Run => run(&cli).await,
        Command::Db {
            command: DbCommand::Backup { path },
        } => {
            let settings = load(&cli)?;
            let store = niryat::store::Store::open(&settings.storage_path)
                .map_err(|e| Failure::Fatal(e.into()))?;
            store
                .backup(path.clone())
                .await
                .map_err(|e| Failure::Fatal(e.into()))?;
            println!(
                "backed up {} to {}",
                settings.storage_path.display(),
                path.display()
            );
            Ok(())
        }
    }
}

fn check(cli: &Cli) -> Result<(), Failure> {
    let settings = load(cli)?;
    // Building the engine also checks the vocabulary extension.
    let engine = Engine::build(settings)?;
    let s = &engine.settings;
    println!("{}: OK", s.file.display());
    println!("database: {}", s.storage_path.display());
    println!(
        "channel:  {}  (api {})",
        s.telegram.channel, s.telegram.api_url
    );
    println!("timezone: {}", s.timezone);
    println!("{} source(s):", s.sources.len());
    for src in &s.sources {
        println!(
            "  {:<28} {:<5} {:<16} {}{}",
            src.id,
            src.kind.name(),
            src.cron,
            src.url,
            if src.enabled { "" } else { "  (disabled)" }
        );
    }
    Ok(())
}

fn run_eval(file: &std::path::Path, json: bool) -> Result<(), Failure> {
    let text = std::fs::read_to_string(file)
        .map_err(|e| Failure::Usage(anyhow::anyhow!("cannot read {}: {e}", file.display())))?;
    let rows = eval::parse_jsonl(&text)
        .map_err(|e| Failure::Usage(anyhow::anyhow!("{}: {e}", file.display())))?;
    let engine_vocab =
        niryat::core::detect::Vocabulary::embedded().map_err(|e| Failure::Fatal(e.into()))?;
    let detector =
        niryat::core::detect::Detector::new(engine_vocab).map_err(|e| Failure::Fatal(e.into()))?;
    let report = eval::evaluate(&detector, &rows);
    print!("{}", report.human());
    if json {
        println!("{}", report.json_line());
    }
    Ok(())
}

/// `niryat extract`: the config is read only when needed (a URL to fetch, or `--source`).
async fn extract(
    cli: &Cli,
    inputs: &[String],
    json: bool,
    source: Option<&str>,
) -> Result<(), Failure> {
    let needs_config = source.is_some() || inputs.iter().any(|i| extract_cmd::as_url(i).is_some());
    let settings = if needs_config { Some(load(cli)?) } else { None };
    let src = match (source, &settings) {
        (Some(id), Some(s)) => Some(find_source(s, id)?),
        _ => None,
    };
    match extract_cmd::run(inputs, json, settings.as_ref(), src).await {
        extract_cmd::Outcome::Read => Ok(()),
        extract_cmd::Outcome::Failed { files, urls } => {
            let e = anyhow::anyhow!(
                "{} of {} input(s) could not be read (see above)",
                files + urls,
                inputs.len()
            );
            // An unreadable file is bad input (2); a page that could not be fetched is a runtime failure (1).
            Err(if files > 0 {
                Failure::Usage(e)
            } else {
                Failure::Fatal(e)
            })
        }
    }
}

async fn test_source(cli: &Cli, id: &str, limit: usize) -> Result<(), Failure> {
    let settings = load(cli)?;
    let engine = Engine::build(settings)?;
    let src = find_source(&engine.settings, id)?.clone();
    let items = engine
        .list(&src)
        .await
        .map_err(|e| Failure::Fatal(e.into()))?;
    println!("{} ({}): {} item(s) listed", src.id, src.url, items.len());
    for item in items.iter().take(limit) {
        match engine.classify_item(&src, item).await {
            Ok(c) => {
                let v = &c.verdict;
                println!(
                    "\n[{}] {}\n  {}\n  topic={} chhattisgarh={} district={} score={:.1} body={} chars ({})",
                    if v.post() { "POST" } else { "skip" },
                    c.title,
                    c.url,
                    v.topic,
                    v.chhattisgarh,
                    v.district.map_or("-", |d| d.en),
                    v.score,
                    c.body.chars().count(),
                    c.extraction,
                );
                for r in &v.reasons {
                    println!("    {r}");
                }
            }
            Err(e) => println!("\n[error] {}\n  {e}", item.url),
        }
    }
    Ok(())
}

async fn once(cli: &Cli) -> Result<(), Failure> {
    let settings = load(cli)?;
    let (trigger, stop) = shutdown::channel();
    let app = build_app(settings, stop)?;
    let signals = tokio::spawn(async move {
        shutdown::os_signal().await;
        trigger.trigger();
    });
    let report = app.run_once().await;
    signals.abort();
    for s in &report.sources {
        match &s.error {
            Some(e) => println!("{:<28} FAILED  {e}", s.id),
            None if s.skipped => println!(
                "{:<28} skipped (backing off after failures, or a pass already running)",
                s.id
            ),
            None if s.not_modified => println!("{:<28} ok      listing not modified", s.id),
            None => println!(
                "{:<28} ok      listed {}, baseline {}, new {}, relevant {}{}",
                s.id,
                s.listed,
                s.baseline,
                s.fetched,
                s.relevant,
                if s.item_errors > 0 {
                    format!(", {} article(s) failed", s.item_errors)
                } else {
                    String::new()
                }
            ),
        }
    }
    let d = &report.delivery;
    println!(
        "delivery: {} sent, {} printed (dry-run), {} failed{}",
        d.sent,
        d.printed,
        d.failed,
        if d.blocked {
            ", blocked by Telegram (see log)"
        } else {
            ""
        }
    );
    Ok(())
}

async fn backfill(
    cli: &Cli,
    id: &str,
    since: chrono::NaiveDate,
    post: bool,
) -> Result<(), Failure> {
    let settings = load(cli)?;
    find_source(&settings, id)?;
    let (trigger, stop) = shutdown::channel();
    let app = build_app(settings, stop)?;
    let signals = tokio::spawn(async move {
        shutdown::os_signal().await;
        trigger.trigger();
    });
    let r = app.backfill(id, since, post).await;
    if let Some(e) = &r.error {
        signals.abort();
        return Err(Failure::Fatal(anyhow::anyhow!("{e}")));
    }
    println!(
        "{}: {} listed since {since}, {} new article(s) recorded, {} relevant{}",
        r.id,
        r.listed,
        r.fetched,
        r.relevant,
        if post {
            ""
        } else {
            " (not posted: add --post)"
        }
    );
    if post {
        let d = app.deliver().await;
        println!(
            "delivery: {} sent, {} printed (dry-run), {} failed",
            d.sent, d.printed, d.failed
        );
    }
    signals.abort();
    Ok(())
}

async fn run(cli: &Cli) -> Result<(), Failure> {
    let settings = load(cli)?;
    let (trigger, stop) = shutdown::channel();
    let app = Arc::new(build_app(settings, stop.clone())?);
    tokio::spawn(async move {
        shutdown::os_signal().await;
        trigger.trigger();
    });
    schedule::run(app, stop)
        .await
        .map_err(|e| Failure::Fatal(e.into()))
}

fn build_app(settings: Settings, stop: shutdown::Shutdown) -> Result<App, Failure> {
    let token = BotToken::from_env();
    if token.is_none() {
        tracing::warn!(
            "{TOKEN_ENV} is not set: dry-run — messages are printed, not posted, and stay pending"
        );
    }
    for s in settings.sources.iter() {
        if let Some(r) = s.robots_override {
            tracing::warn!(source = %s.id, respect_robots_txt = r, "per-source robots.txt override");
        }
    }
    Ok(App::build(settings, token, stop)?)
}
