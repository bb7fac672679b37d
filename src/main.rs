//! The `niryat` binary: parses the command line, sets up logging, and wires the library.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{ArgGroup, Parser, Subcommand};

use niryat::app::{App, BuildError, Engine};
use niryat::config::{self, DEFAULT_CONFIG_PATH, Origin, Settings, SourceSettings};
use niryat::core::discover as find;
use niryat::core::eval;
use niryat::discover::{self, DiscoverError};
use niryat::fetch::{Fetcher, RequestOptions};
use niryat::listing::{Listed, Walk};
use niryat::notify::{BotToken, TOKEN_ENV};
use niryat::store::{Selection, Store};
use niryat::{health, logging, schedule, server, shutdown};

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
        /// First day to reach back to (YYYY-MM-DD, not in the future, not before 1990).
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
    /// Find how to watch a site — a feed, the WordPress API, or the news listing on the page — and
    /// print each way as a [[sources]] table (TOML), best first.
    Discover(DiscoverArgs),
    /// Measure the detector on a JSON Lines file (title, text, label, state, district).
    Eval {
        file: PathBuf,
        /// Print one JSON object on the last line.
        #[arg(long)]
        json: bool,
        /// Grouped K-fold cross-validation: the weights are refitted on the training folds only (with
        /// the shipped penalty and threshold), and the spread across folds and a precision/recall
        /// trade-off table are printed.
        #[arg(long, value_name = "K")]
        cv: Option<usize>,
        /// Refit the weights on FILE (penalty and threshold chosen by cross-validation, --cv K or 5
        /// folds) and write them to OUT (the format of src/core/weights.toml).
        #[arg(long, value_name = "OUT")]
        fit: Option<PathBuf>,
    },
    /// See and act on the posts waiting to go out (works beside a running daemon).
    Outbox {
        #[command(subcommand)]
        command: OutboxCommand,
    },
    /// Show each source's health (last success, failures or empty listings in a row, items,
    /// reports, next run) and the channel's posts. Reads the database only; works beside a
    /// running daemon.
    Status {
        /// Print one JSON object.
        #[arg(long)]
        json: bool,
    },
    /// For a container HEALTHCHECK: ask the local endpoint's /healthz when [server] listen is set,
    /// otherwise check that the database opens and is readable. Exit 0 healthy, 1 unhealthy, with
    /// a one-line reason.
    Healthcheck,
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
enum OutboxCommand {
    /// List pending, failed and uncertain posts with their attempts and last error.
    List,
    /// Make a post (by id) or `all` unsent posts due now; the daemon sends them on its next
    /// delivery. A dropped post is queued again by its id.
    Retry { which: String },
    /// Drop an unsent post: it is kept in the database, marked dropped, and never sent.
    Drop { id: i64 },
}

#[derive(Subcommand)]
enum DbCommand {
    /// Copy the live database to PATH (SQLite online backup; works beside a running daemon).
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

fn fatal(e: impl Into<anyhow::Error>) -> Failure {
    Failure::Fatal(e.into())
}

fn usage(msg: String) -> Failure {
    Failure::Usage(anyhow::anyhow!(msg))
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let format = match logging::Format::from_env() {
        Ok(f) => f,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    logging::init(format, BotToken::from_env());
    let result = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(fatal)
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
        Command::Eval {
            file,
            json,
            cv,
            fit,
        } => run_eval(file, *json, *cv, fit.as_deref()),
        Command::Extract {
            inputs,
            json,
            source,
        } => extract(&cli, inputs, *json, source.as_deref()).await,
        Command::TestSource { id, limit } => test_source(&cli, id, *limit).await,
        Command::Discover(args) => discover_cmd(&cli, args).await,
        Command::Once => once(&cli).await,
        Command::Backfill { id, since, post } => backfill(&cli, id, *since, *post).await,
        Command::Run => run(&cli).await,
        Command::Outbox { command } => outbox(&cli, command).await,
        Command::Status { json } => status(&cli, *json).await,
        Command::Healthcheck => healthcheck(&cli).await,
        Command::Db {
            command: DbCommand::Backup { path },
        } => {
            let settings = load(&cli)?;
            let store = Store::open_shared(&settings.storage_path).map_err(fatal)?;
            store.backup(path.clone()).await.map_err(fatal)?;
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
    let engine = Engine::build(settings, shutdown::Shutdown::never())?;
    let s = &engine.settings;
    println!("{}: OK", s.file.display());
    println!("database: {}", s.storage_path.display());
    println!(
        "channel:  {}  (api {})",
        s.telegram.channel, s.telegram.api_url
    );
    println!("timezone: {}", s.timezone);
    println!("settings (file, env NIRYAT__… or default):");
    for o in &s.origins {
        let from = match &o.origin {
            Origin::File => "file".to_owned(),
            Origin::Env(var) => format!("env {var}"),
            Origin::Default => "default".to_owned(),
        };
        println!(
            "  {:<32} {:<40} {from}",
            o.key,
            o.value.as_deref().unwrap_or("-")
        );
    }
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

fn run_eval(
    file: &std::path::Path,
    json: bool,
    cv: Option<usize>,
    fit: Option<&std::path::Path>,
) -> Result<(), Failure> {
    use niryat::core::detect::{Detector, Vocabulary, Weights};
    let text = std::fs::read_to_string(file)
        .map_err(|e| usage(format!("cannot read {}: {e}", file.display())))?;
    let rows = eval::parse_jsonl(&text).map_err(|e| usage(format!("{}: {e}", file.display())))?;
    let cv_usage = |e: eval::CvError| usage(format!("{}: {e}", file.display()));
    if cv.is_none() && fit.is_none() {
        let detector = Detector::new(Vocabulary::embedded().map_err(fatal)?).map_err(fatal)?;
        let report = eval::evaluate(&detector, &rows);
        print!("{}", report.human());
        if json {
            println!("{}", report.json_line());
        }
        return Ok(());
    }
    // Cross-validation and refitting learn their own weights: the shipped ones may be incomplete.
    let shipped = Weights::embedded().map_err(fatal)?;
    let detector = Detector::with_weights(Vocabulary::embedded().map_err(fatal)?, &shipped, false)
        .map_err(fatal)?;
    let report = match fit {
        Some(out) => {
            let k = cv.unwrap_or(eval::DEFAULT_FOLDS);
            let (weights, report) = eval::fit_weights(&detector, &rows, k).map_err(cv_usage)?;
            let body = weights.to_toml(&eval::weights_header(&rows, &report));
            std::fs::write(out, body)
                .map_err(|e| fatal(anyhow::anyhow!("cannot write {}: {e}", out.display())))?;
            eprintln!(
                "wrote {} ({} weights, threshold {:.2})",
                out.display(),
                weights.features.len(),
                weights.threshold
            );
            report
        }
        None => eval::cross_validate(
            &detector,
            &rows,
            cv.unwrap_or(eval::DEFAULT_FOLDS),
            shipped.l2,
            Some(shipped.threshold),
        )
        .map_err(cv_usage)?,
    };
    print!("{}", report.human());
    if json {
        println!("{}", report.json_line());
    }
    Ok(())
}

/// Page text as it may be printed to a terminal: control characters (escape sequences) and
/// bidirectional overrides removed.
fn printable(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_control() && !niryat::core::render::is_bidi_control(*c))
        .collect()
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
    let (trigger, stop) = shutdown::channel();
    let engine = Engine::build(settings, stop)?;
    let signals = shutdown::handle_signals(trigger);
    let src = find_source(&engine.settings, id)?.clone();
    let r = report_source(&engine, &src, limit, "").await;
    signals.abort();
    r
}

/// Print `text` line by line, each behind `prefix` (`"# "` keeps discover's output valid TOML).
fn emit(prefix: &str, text: &str) {
    for line in text.lines() {
        println!("{}", format!("{prefix}{line}").trim_end());
    }
}

/// The body of `test-source`: list the source, classify up to `limit` items, print each verdict.
/// Page text is printed without control characters (a page cannot drive the terminal).
async fn report_source(
    engine: &Engine,
    src: &SourceSettings,
    limit: usize,
    prefix: &str,
) -> Result<(), Failure> {
    let walk = Walk::of(src, engine.today());
    let items = match engine.list(src, &walk, None).await.map_err(fatal)? {
        Listed::Entries(l) => {
            for p in &l.problems {
                emit(prefix, &format!("warning: {}", printable(p)));
            }
            l.entries
        }
        Listed::NotModified => Vec::new(),
    };
    emit(
        prefix,
        &format!("{} ({}): {} item(s) listed", src.id, src.url, items.len()),
    );
    let links_internal = engine.source_is_internal(src).await;
    for item in items.iter().take(limit) {
        match engine.read(src, item, links_internal).await {
            Ok(a) => {
                let v = &a.verdict;
                let mut text = format!(
                    "\n[{}] {}\n  {}\n  topic={} chhattisgarh={} district={} score={:.1} body={} chars ({})",
                    if a.relevant() { "POST" } else { "skip" },
                    printable(&a.title),
                    a.url,
                    v.topic,
                    v.chhattisgarh,
                    v.district.map_or("-", |d| d.en),
                    v.score,
                    a.body.chars().count(),
                    a.extraction,
                );
                for r in &v.reasons {
                    text.push_str(&format!("\n    {}", printable(r)));
                }
                emit(prefix, &text);
            }
            Err(e) => emit(
                prefix,
                &format!("\n[error] {}\n  {}", item.url, printable(&e.to_string())),
            ),
        }
    }
    Ok(())
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
        // The operator named this site.
        allow_internal: true,
    };
    let fetcher = Fetcher::new(settings.fetch.clone()).map_err(|e| Failure::Fatal(e.into()))?;
    let found = discover::discover(&fetcher, &url, opts, settings.timezone).await?;
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
        let engine = Engine::build(test_settings, shutdown::Shutdown::never())?;
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
    let signals = shutdown::handle_signals(trigger);
    let report = app.run_once().await;
    signals.abort();
    for s in &report.sources {
        match &s.error {
            Some(e) => println!("{:<28} FAILED  {e}", s.id),
            None if s.paused => println!(
                "{:<28} paused  (by an admin with the bot's /pause; /resume resumes it)",
                s.id
            ),
            None if s.skipped => println!(
                "{:<28} skipped (backing off after failures, or a pass already running)",
                s.id
            ),
            None if s.not_modified => println!("{:<28} ok      listing not modified", s.id),
            None => {
                let mut extra = String::new();
                for (n, what) in [
                    (s.item_errors, "article(s) failed"),
                    (s.unprocessable, "unprocessable (recorded, not retried)"),
                    (s.held_back, "held back"),
                    (s.deferred, "deferred to the next pass"),
                    (s.problems.len(), "listing page(s) failed"),
                ] {
                    if n > 0 {
                        extra.push_str(&format!(", {n} {what}"));
                    }
                }
                println!(
                    "{:<28} {}listed {}, baseline {}, new {}, relevant {}{extra}",
                    s.id,
                    if s.problems.is_empty() {
                        "ok      "
                    } else {
                        "DEGRADED "
                    },
                    s.listed,
                    s.baseline,
                    s.fetched,
                    s.relevant,
                );
            }
        }
    }
    let d = &report.delivery;
    println!(
        "delivery: {} sent, {} printed (dry-run), {} failed, {} uncertain{}",
        d.sent,
        d.printed,
        d.failed,
        d.uncertain,
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
    let today = niryat::engine::Clock::System.today(settings.timezone);
    let oldest = chrono::NaiveDate::from_ymd_opt(1990, 1, 1).unwrap_or(chrono::NaiveDate::MIN);
    if since > today {
        return Err(usage(format!(
            "--since {since} is in the future (today is {today} in {})",
            settings.timezone
        )));
    }
    if since < oldest {
        return Err(usage(format!(
            "--since {since} is before {oldest}: no source reaches that far back"
        )));
    }
    let (trigger, stop) = shutdown::channel();
    let app = build_app(settings, stop)?;
    let signals = shutdown::handle_signals(trigger);
    let r = app.backfill(id, since, post).await;
    if let Some(e) = &r.error {
        signals.abort();
        return Err(fatal(anyhow::anyhow!("{e}")));
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
            "delivery: {} sent, {} printed (dry-run), {} failed, {} uncertain",
            d.sent, d.printed, d.failed, d.uncertain
        );
    }
    signals.abort();
    Ok(())
}

async fn run(cli: &Cli) -> Result<(), Failure> {
    let settings = load(cli)?;
    let (trigger, stop) = shutdown::channel();
    let listen = settings.server.listen;
    let app = Arc::new(build_app(settings, stop.clone())?);
    shutdown::handle_signals(trigger);
    let server = match listen {
        Some(addr) => Some(
            server::start(Arc::clone(&app), addr, stop.clone())
                .await
                .map_err(fatal)?
                .1,
        ),
        None => None,
    };
    // SIGHUP: read the config file (and the environment) again; a config that does not validate
    // is logged with its file and key, and the running one is kept.
    let path = cli.config.clone();
    let reload = schedule::Reload {
        requests: shutdown::hangups(),
        rebuild: Box::new(move |old: &App| {
            tracing::info!(file = %path.display(), "SIGHUP: reloading the config");
            let settings = Settings::load(&path).map_err(|e| e.to_string())?;
            old.reloaded(settings).map_err(|e| e.to_string())
        }),
    };
    schedule::run_reloading(app, stop, Some(reload))
        .await
        .map_err(fatal)?;
    if let Some(server) = server {
        let _ = server.await;
    }
    Ok(())
}

/// `niryat status`: every configured source's health and the channel's posts, from the database.
async fn status(cli: &Cli, json: bool) -> Result<(), Failure> {
    let settings = load(cli)?;
    let store = Store::open_shared(&settings.storage_path).map_err(fatal)?;
    let o = health::overview(&store, &settings, chrono::Utc::now())
        .await
        .map_err(fatal)?;
    if json {
        println!("{}", serde_json::to_string(&o).map_err(fatal)?);
        return Ok(());
    }
    let tz = settings.timezone;
    let when = |t: Option<chrono::DateTime<chrono::Utc>>| {
        t.map_or_else(
            || "-".to_owned(),
            |t| t.with_timezone(&tz).format("%Y-%m-%d %H:%M").to_string(),
        )
    };
    let n = |v: Option<u32>| v.map_or_else(|| "-".to_owned(), |v| v.to_string());
    println!(
        "niryat status at {} ({tz}), database {}",
        when(Some(o.at)),
        settings.storage_path.display()
    );
    println!(
        "{:<28} {:<8} {:<16} {:>5} {:>5} {:>5} {:>9}  NEXT RUN",
        "SOURCE", "HEALTH", "LAST SUCCESS", "FAILS", "EMPTY", "ITEMS", "REPORTS"
    );
    for st in &o.sources {
        let s = &st.record;
        println!(
            "{:<28} {:<8} {:<16} {:>5} {:>5} {:>5} {:>9}  {}",
            s.id,
            st.health,
            when(s.last_success),
            s.consecutive_failures,
            s.empty_passes,
            n(s.items_listed),
            format!("{} ({})", n(s.reports_found), s.reports_total),
            when(st.next_run),
        );
        if let (Some(e), health::Health::Failing) = (&s.last_error, st.health) {
            println!("    last error: {}", printable(e));
        }
    }
    println!(
        "posts to {}: {} pending, {} uncertain, {} failed, {} sent today",
        settings.telegram.channel,
        o.posts.pending,
        o.posts.uncertain,
        o.posts.failed,
        o.posts.sent_today
    );
    Ok(())
}

/// `niryat healthcheck`: exit 0 healthy, 1 unhealthy (also for a config that cannot be read:
/// Docker reserves exit code 2).
async fn healthcheck(cli: &Cli) -> Result<(), Failure> {
    let unhealthy = |why: String| Failure::Fatal(anyhow::anyhow!("unhealthy: {why}"));
    let settings = Settings::load(&cli.config).map_err(|e| unhealthy(e.to_string()))?;
    match settings.server.listen {
        Some(addr) => {
            let ip = match addr.ip() {
                std::net::IpAddr::V4(ip) if ip.is_unspecified() => {
                    std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST)
                }
                std::net::IpAddr::V6(ip) if ip.is_unspecified() => {
                    std::net::IpAddr::V6(std::net::Ipv6Addr::LOCALHOST)
                }
                ip => ip,
            };
            let url = format!(
                "http://{}/healthz",
                std::net::SocketAddr::new(ip, addr.port())
            );
            let client = reqwest::Client::builder()
                .no_proxy()
                .timeout(std::time::Duration::from_secs(5))
                .build()
                .map_err(|e| unhealthy(e.to_string()))?;
            match client.get(&url).send().await {
                Ok(r) if r.status().is_success() => {
                    println!("healthy: {url} answered {}", r.status());
                    Ok(())
                }
                Ok(r) => Err(unhealthy(format!("{url} answered {}", r.status()))),
                Err(e) => Err(unhealthy(format!("{url}: {}", niryat::errors::chain(&e)))),
            }
        }
        None => {
            let path = &settings.storage_path;
            let store = Store::open_shared(path).map_err(|e| unhealthy(e.to_string()))?;
            store
                .count("sources")
                .await
                .map_err(|e| unhealthy(e.to_string()))?;
            println!(
                "healthy: database {} opens and is readable ([server] listen is not set)",
                path.display()
            );
            Ok(())
        }
    }
}

async fn outbox(cli: &Cli, command: &OutboxCommand) -> Result<(), Failure> {
    let settings = load(cli)?;
    let store = Store::open_shared(&settings.storage_path).map_err(fatal)?;
    match command {
        OutboxCommand::List => {
            let rows = store.outbox().await.map_err(fatal)?;
            if rows.is_empty() {
                println!("the outbox is empty: every post has been sent");
            }
            for p in rows {
                println!(
                    "#{:<6} {:<9} attempts {}{}  to {}  next {}\n        {}\n        last error: {}",
                    p.id,
                    p.status,
                    p.attempts,
                    if p.ambiguous > 0 {
                        format!(
                            " ({} without answer: may already be in the chat)",
                            p.ambiguous
                        )
                    } else {
                        String::new()
                    },
                    match &p.target {
                        niryat::store::Target::Channel => {
                            format!("{} (channel)", settings.telegram.channel)
                        }
                        niryat::store::Target::Chat(c) => c.clone(),
                    },
                    p.next_attempt_at.as_deref().unwrap_or("now"),
                    p.url,
                    p.last_error.as_deref().map_or("-".to_owned(), printable),
                );
            }
            Ok(())
        }
        OutboxCommand::Retry { which } => {
            let selection = match which.as_str() {
                "all" => Selection::All,
                id => Selection::One(
                    id.parse()
                        .map_err(|_| usage(format!("{id:?} is neither a post id nor `all`")))?,
                ),
            };
            let n = store.retry_posts(selection).await.map_err(fatal)?;
            if let (Selection::One(id), 0) = (selection, n) {
                return Err(usage(format!(
                    "no unsent post #{id} (see `niryat outbox list`)"
                )));
            }
            println!("{n} post(s) due now; the daemon sends them on its next delivery");
            Ok(())
        }
        OutboxCommand::Drop { id } => {
            if store.drop_post(*id).await.map_err(fatal)? {
                println!("post #{id} dropped: it is kept in the database and will not be sent");
                Ok(())
            } else {
                Err(usage(format!(
                    "no unsent post #{id} (see `niryat outbox list`)"
                )))
            }
        }
    }
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
