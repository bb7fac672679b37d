//! The `niryat` binary: parses the command line, sets up logging, and wires the library.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{ArgGroup, Parser, Subcommand};
use tracing_subscriber::EnvFilter;

use niryat::config::{self, DEFAULT_CONFIG_PATH, Settings, SourceSettings};
use niryat::core::discover as find;
use niryat::core::eval;
use niryat::discover::{self, DiscoverError};
use niryat::fetch::{Fetcher, RequestOptions};
use niryat::notify::{BotToken, TOKEN_ENV};
use niryat::pipeline::{App, BuildError, Engine};
use niryat::{schedule, shutdown};

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
    /// Find how to watch a site — a feed, the WordPress API, or the news listing on the page — and
    /// print each way as a [[sources]] table (TOML), best first.
    Discover(DiscoverArgs),
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

#[derive(clap::Args)]
#[command(group(ArgGroup::new("target").required(true).args(["url", "source"])))]
struct DiscoverArgs {
    /// The page to look at: a news listing, a section page or a home page.
    url: Option<String>,
    /// Re-discover this configured source and print the diff of its selectors.
    #[arg(long, conflicts_with = "url")]
    source: Option<String>,
    /// Id of the proposed source (default: derived from the host).
    #[arg(long)]
    id: Option<String>,
    /// Fetch through this proxy (http://, https:// or socks5://); default: the config's.
    #[arg(long)]
    proxy: Option<String>,
    /// Run test-source on the best proposal and print its items with their verdicts.
    #[arg(long)]
    test: bool,
    /// Append the best proposal to the config file (after it validates; the old file is kept as .bak).
    #[arg(long, conflicts_with = "source")]
    write: bool,
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

impl From<DiscoverError> for Failure {
    fn from(e: DiscoverError) -> Self {
        if e.is_usage() {
            Self::Usage(e.into())
        } else {
            Self::Fatal(e.into())
        }
    }
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

async fn dispatch(cli: Cli) -> Result<(), Failure> {
    match &cli.command {
        Command::Check => check(&cli),
        Command::Eval { file, json } => run_eval(file, *json),
        Command::TestSource { id, limit } => test_source(&cli, id, *limit).await,
        Command::Discover(args) => discover_cmd(&cli, args).await,
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

async fn test_source(cli: &Cli, id: &str, limit: usize) -> Result<(), Failure> {
    let settings = load(cli)?;
    let engine = Engine::build(settings)?;
    let src = engine
        .settings
        .source(id)
        .ok_or_else(|| {
            Failure::Usage(anyhow::anyhow!(
                "{}: no source with id {id:?} (see `niryat check`)",
                engine.settings.file.display()
            ))
        })?
        .clone();
    report_source(&engine, &src, limit, "").await
}

/// Print `text` line by line, each behind `prefix` (`"# "` keeps discover's output valid TOML).
fn emit(prefix: &str, text: &str) {
    for line in text.lines() {
        println!("{}", format!("{prefix}{line}").trim_end());
    }
}

/// The body of `test-source`: list the source, classify up to `limit` items, print each verdict.
async fn report_source(
    engine: &Engine,
    src: &SourceSettings,
    limit: usize,
    prefix: &str,
) -> Result<(), Failure> {
    let items = engine
        .list(src)
        .await
        .map_err(|e| Failure::Fatal(e.into()))?;
    emit(
        prefix,
        &format!("{} ({}): {} item(s) listed", src.id, src.url, items.len()),
    );
    for item in items.iter().take(limit) {
        match engine.classify_item(src, item).await {
            Ok(c) => {
                let v = &c.verdict;
                let mut text = format!(
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
                    text.push_str(&format!("\n    {r}"));
                }
                emit(prefix, &text);
            }
            Err(e) => emit(prefix, &format!("\n[error] {}\n  {e}", item.url)),
        }
    }
    Ok(())
}

fn usage(message: String) -> Failure {
    Failure::Usage(anyhow::anyhow!(message))
}

async fn discover_cmd(cli: &Cli, args: &DiscoverArgs) -> Result<(), Failure> {
    let settings = load(cli)?;
    let source = match &args.source {
        Some(id) => Some(settings.source(id).cloned().ok_or_else(|| {
            usage(format!(
                "{}: no source with id {id:?} (see `niryat check`)",
                settings.file.display()
            ))
        })?),
        None => None,
    };
    let url = match (&args.url, &source) {
        (Some(u), _) => {
            let url = url::Url::parse(u).map_err(|e| usage(format!("{u:?} is not a URL: {e}")))?;
            if !matches!(url.scheme(), "http" | "https") {
                return Err(usage(format!("{u:?} must be an http or https URL")));
            }
            url
        }
        (None, Some(src)) => src.url.clone(),
        (None, None) => return Err(usage("give a URL or --source ID".to_owned())),
    };
    if let Some(id) = &args.id
        && !config::valid_source_id(id)
    {
        return Err(usage(format!(
            "--id {id:?} is not a valid id: use letters, digits, '-', '_' or '.'"
        )));
    }
    let proxy = match &args.proxy {
        Some(p) => Some(config::parse_proxy(p).map_err(|m| usage(format!("--proxy: {m}")))?),
        None => source
            .as_ref()
            .and_then(|s| s.proxy.clone())
            .or_else(|| settings.fetch.proxy.clone()),
    };
    let opts = RequestOptions {
        timeout: source
            .as_ref()
            .map_or(settings.fetch.timeout, |s| s.timeout),
        proxy: proxy.as_ref(),
        respect_robots: source
            .as_ref()
            .map_or(settings.fetch.respect_robots_txt, |s| s.respect_robots_txt),
    };
    let fetcher = Fetcher::new(settings.fetch.clone()).map_err(|e| Failure::Fatal(e.into()))?;
    let found = discover::discover(&fetcher, &url, opts).await?;
    let id = args
        .id
        .clone()
        .or_else(|| source.as_ref().map(|s| s.id.clone()))
        .unwrap_or_else(|| find::id_from_host(&found.url));
    let best = &found.candidates[0];
    if let Some(src) = &source {
        println!(
            "# Source {} re-discovered on {}: its settings (-) and the best proposal (+).",
            src.id, url
        );
        for line in find::diff_shapes(&discover::shape_of(src), &best.shape()) {
            println!("# {line}");
        }
        println!();
    }
    print!("{}", find::render(&url, &id, &found.candidates));
    let block = find::render_source(best, &id, true);
    if args.test {
        let test_settings = discover::settings_for_test(&cli.config, &block)?;
        let engine = Engine::build(test_settings)?;
        let Some(src) = engine.settings.sources.first().cloned() else {
            return Err(usage("the proposal holds no source".to_owned()));
        };
        println!("\n# test-source on the first proposal ({id}):");
        report_source(&engine, &src, 10, "# ").await?;
    }
    if args.write {
        let backup = discover::append_to_config(&cli.config, &block)?;
        eprintln!(
            "appended source {id} to {} (the previous version is kept as {})",
            cli.config.display(),
            backup.display()
        );
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
    if settings.source(id).is_none() {
        return Err(Failure::Usage(anyhow::anyhow!(
            "{}: no source with id {id:?} (see `niryat check`)",
            settings.file.display()
        )));
    }
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
