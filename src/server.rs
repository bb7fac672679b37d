//! The HTTP endpoint (axum), on only when `[server] listen` is set: `/healthz` (the process
//! answers), `/readyz` (database writable, scheduler running, every enabled source fresh),
//! `/metrics` (Prometheus text) and `/`, a read-only status page rendered on the server (maud:
//! compiled templates, every text escaped; no script, no external asset). It stops with the
//! daemon's shutdown.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use maud::{DOCTYPE, Markup, PreEscaped, html};

use crate::app::App;
use crate::health::{self, Overview};
use crate::shutdown::Shutdown;
use crate::store::{PostRow, ReportRow, StoreError};

/// How many of the latest reports the status page shows.
pub const PAGE_REPORTS: u32 = 30;

#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error("cannot listen on {addr} ([server] listen): {source}")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
}

/// Bind `addr` and serve until `shutdown`. Returns the bound address (port 0 picks one) and the
/// server task.
pub async fn start(
    app: Arc<App>,
    addr: SocketAddr,
    shutdown: Shutdown,
) -> Result<(SocketAddr, tokio::task::JoinHandle<()>), ServerError> {
    let bind_err = |source| ServerError::Bind { addr, source };
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(bind_err)?;
    let local = listener.local_addr().map_err(bind_err)?;
    tracing::info!(listen = %local, "HTTP endpoint: /healthz /readyz /metrics /");
    let task = tokio::spawn(async move {
        let served = axum::serve(listener, router(app))
            .with_graceful_shutdown(async move { shutdown.wait().await })
            .await;
        if let Err(e) = served {
            tracing::error!(error = %e, "the HTTP endpoint stopped");
        }
    });
    Ok((local, task))
}

pub fn router(app: Arc<App>) -> Router {
    Router::new()
        .route("/", get(page))
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .with_state(app)
}

fn internal(e: &StoreError) -> Response {
    tracing::error!(error = %e, "HTTP endpoint: cannot read the database");
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        format!("cannot read the database: {e}\n"),
    )
        .into_response()
}

async fn readyz(State(app): State<Arc<App>>) -> Response {
    let problems = health::readiness(&app, Utc::now()).await;
    if problems.is_empty() {
        (StatusCode::OK, "ready\n").into_response()
    } else {
        let mut body = String::from("not ready:\n");
        for p in problems {
            body.push_str(&format!("- {p}\n"));
        }
        (StatusCode::SERVICE_UNAVAILABLE, body).into_response()
    }
}

async fn metrics(State(app): State<Arc<App>>) -> Response {
    let read = async {
        let records = app.store.source_records().await?;
        let posts = app
            .store
            .post_counts(health::start_of_day(Utc::now(), app.settings().timezone))
            .await?;
        Ok::<_, StoreError>((records, posts))
    };
    match read.await {
        Ok((records, posts)) => (
            [(
                header::CONTENT_TYPE,
                "application/openmetrics-text; version=1.0.0; charset=utf-8",
            )],
            app.metrics.render(&records, posts),
        )
            .into_response(),
        Err(e) => internal(&e),
    }
}

async fn page(State(app): State<Arc<App>>) -> Response {
    let now = Utc::now();
    let read = async {
        let overview = health::overview(&app.store, app.settings(), now).await?;
        let reports = app.store.latest_reports(PAGE_REPORTS).await?;
        let outbox = app.store.outbox().await?;
        Ok::<_, StoreError>((overview, reports, outbox))
    };
    match read.await {
        Ok((overview, reports, outbox)) => Html(
            status_page(
                &overview,
                &reports,
                &outbox,
                app.settings().timezone,
                &app.settings().telegram.channel,
            )
            .into_string(),
        )
        .into_response(),
        Err(e) => internal(&e),
    }
}

const CSS: &str = "body{font-family:system-ui,sans-serif;margin:0 auto;padding:0.5rem;max-width:72rem;color:#222}\
h1{font-size:1.4rem}h2{font-size:1.15rem;margin-top:1.5rem}\
.scroll{overflow-x:auto}table{border-collapse:collapse;width:100%;font-size:0.9rem}\
th,td{text-align:left;padding:0.3rem 0.4rem;border-bottom:1px solid #ddd;vertical-align:top}\
.h-ok{color:#176117}.h-failing{color:#a00;font-weight:bold}.h-empty,.h-silent{color:#a35a00;font-weight:bold}\
.h-waiting,.h-disabled{color:#666}small{color:#555}details summary{cursor:pointer}";

fn when(t: Option<DateTime<Utc>>, tz: Tz) -> String {
    t.map_or_else(
        || "—".to_owned(),
        |t| t.with_timezone(&tz).format("%Y-%m-%d %H:%M").to_string(),
    )
}

fn count(n: Option<u32>) -> String {
    n.map_or_else(|| "—".to_owned(), |n| n.to_string())
}

/// The status page: the sources, the latest reports, the outbox.
pub fn status_page(
    o: &Overview,
    reports: &[ReportRow],
    outbox: &[PostRow],
    tz: Tz,
    channel: &str,
) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { "niryat status" }
                style { (PreEscaped(CSS)) }
            }
            body {
                h1 { "niryat" }
                p {
                    "As of " (when(Some(o.at), tz)) " (" (tz.name()) "). Channel " (channel) ": "
                    strong { (o.posts.pending) } " pending, "
                    strong { (o.posts.failed) } " failed, "
                    strong { (o.posts.uncertain) } " uncertain, "
                    strong { (o.posts.sent_today) } " sent today."
                }
                h2 { "Sources" }
                div.scroll {
                    table {
                        thead { tr {
                            th { "source" } th { "health" } th { "last success" }
                            th { "failures / empty passes" } th { "items" } th { "reports" }
                            th { "next run" }
                        } }
                        tbody {
                            @for st in &o.sources {
                                @let s = &st.record;
                                tr data-source=(s.id) {
                                    td { a href=(s.url) { (s.id) } br; small { (st.kind) } }
                                    td class={ "h-" (st.health.as_str()) } {
                                        (st.health.as_str())
                                        @if let Some(e) = &s.last_error { br; small { (e) } }
                                    }
                                    td { (when(s.last_success, tz)) }
                                    td { (s.consecutive_failures) " / " (s.empty_passes) }
                                    td { (count(s.items_listed)) }
                                    td { (count(s.reports_found)) " " small { "(" (s.reports_total) " in all)" } }
                                    td {
                                        (when(st.next_run, tz))
                                        @if let Some(t) = st.backing_off_until { br; small { "backing off until " (when(Some(t), tz)) } }
                                    }
                                }
                            }
                        }
                    }
                }
                h2 { "Latest reports" }
                @if reports.is_empty() { p { "No report yet." } }
                @else {
                    div.scroll {
                        table {
                            thead { tr { th { "found" } th { "report" } th { "post" } th { "why" } } }
                            tbody {
                                @for r in reports {
                                    tr data-report=(r.id) {
                                        td { (r.first_seen.get(..16).unwrap_or(&r.first_seen).replace('T', " ")) " UTC" br; small { (r.source_id) } }
                                        td {
                                            a href=(r.url) { (r.title) }
                                            @if let Some(d) = &r.district { br; small { (d) } }
                                        }
                                        td {
                                            @match (r.post, r.duplicate_of) {
                                                (Some(p), _) => { (p.as_str()) }
                                                (None, Some(first)) => { "copy of #" (first) }
                                                (None, None) => { "not posted" }
                                            }
                                        }
                                        td {
                                            details {
                                                summary { "score " (format!("{:.2}", r.score)) ", " (r.reasons.len()) " reasons" }
                                                ul { @for reason in &r.reasons { li { (reason) } } }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
                h2 { "Outbox" }
                @if outbox.is_empty() { p { "The outbox is empty: every post has been sent." } }
                @else {
                    div.scroll {
                        table {
                            thead { tr { th { "post" } th { "state" } th { "attempts" } th { "next attempt" } th { "last error" } } }
                            tbody {
                                @for p in outbox {
                                    tr data-post=(p.id) {
                                        td { "#" (p.id) " " a href=(p.url) { (p.url) } }
                                        td { (p.status.as_str()) }
                                        td { (p.attempts) }
                                        td { (p.next_attempt_at.as_deref().unwrap_or("now")) }
                                        td { (p.last_error.as_deref().unwrap_or("—")) }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}
