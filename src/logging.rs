//! Logging: human-readable lines, or one JSON object per line with `NIRYAT_LOG_FORMAT=json`;
//! `RUST_LOG` filters (default `info`). Every line goes through [`BotToken::redact`] before it
//! reaches stderr, so the token cannot appear in a log line whatever a library logs (the
//! notifier already redacts its own messages; this is the net under everything else).
//!
//! Spans: `pass` (one pass over every source), `source` (one source's pass, with `id` and `url`),
//! `tick` (a scheduled run of one source), `deliver` (one post, with `post_id` and `chat`),
//! `backfill`. In JSON each line carries the enclosing spans in `spans`.

use std::io::Write;

use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;

use crate::notify::BotToken;

/// The environment variable that picks the format.
pub const FORMAT_ENV: &str = "NIRYAT_LOG_FORMAT";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Text,
    Json,
}

impl Format {
    /// `NIRYAT_LOG_FORMAT`: `json`, `text` (or unset, or empty) — anything else is an error.
    pub fn from_env() -> Result<Self, String> {
        Self::parse(std::env::var(FORMAT_ENV).ok().as_deref())
    }

    pub fn parse(value: Option<&str>) -> Result<Self, String> {
        match value.map(str::trim) {
            None | Some("" | "text") => Ok(Self::Text),
            Some("json") => Ok(Self::Json),
            Some(other) => Err(format!(
                "{FORMAT_ENV}={other:?} is not a log format: use json or text"
            )),
        }
    }
}

/// Install the global subscriber, writing to stderr with `token` redacted from every line.
pub fn init(format: Format, token: Option<BotToken>) {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,teloxide=warn,teloxide_core=warn"));
    let writer = Redacting { token };
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer);
    match format {
        Format::Text => builder
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .init(),
        Format::Json => builder
            .json()
            .with_current_span(false)
            .with_span_list(true)
            .init(),
    }
}

/// Makes one [`RedactedLine`] per event.
pub struct Redacting {
    token: Option<BotToken>,
}

impl<'a> MakeWriter<'a> for Redacting {
    type Writer = RedactedLine<std::io::Stderr>;

    fn make_writer(&'a self) -> Self::Writer {
        RedactedLine {
            buf: Vec::new(),
            token: self.token.clone(),
            out: std::io::stderr(),
        }
    }
}

/// One event, buffered, then written redacted in one piece when dropped.
pub struct RedactedLine<W: Write> {
    buf: Vec<u8>,
    token: Option<BotToken>,
    out: W,
}

impl<W: Write> RedactedLine<W> {
    pub fn new(out: W, token: Option<BotToken>) -> Self {
        Self {
            buf: Vec::new(),
            token,
            out,
        }
    }
}

impl<W: Write> Write for RedactedLine<W> {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(data);
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<W: Write> Drop for RedactedLine<W> {
    fn drop(&mut self) {
        let text = String::from_utf8_lossy(&self.buf);
        let line = match &self.token {
            Some(t) => t.redact(&text),
            None => text.into_owned(),
        };
        let _ = self.out.write_all(line.as_bytes());
        let _ = self.out.flush();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_format_comes_from_its_variable() {
        assert_eq!(Format::parse(None), Ok(Format::Text));
        assert_eq!(Format::parse(Some("text")), Ok(Format::Text));
        assert_eq!(Format::parse(Some("json")), Ok(Format::Json));
        let e = Format::parse(Some("xml")).unwrap_err();
        assert!(e.contains(FORMAT_ENV) && e.contains("xml"), "{e}");
    }

    #[test]
    fn a_line_is_written_whole_and_redacted() {
        let mut out = Vec::new();
        {
            let mut line = RedactedLine::new(&mut out, Some(BotToken::new("123456:TEST")));
            write!(line, "GET https://api.example/bot123456:TEST/").unwrap();
            writeln!(line, "sendMessage and bot123456%3ATEST").unwrap();
        }
        let text = String::from_utf8(out).unwrap();
        assert!(!text.contains("123456"), "{text}");
        assert_eq!(text.matches("<redacted>").count(), 2, "{text}");
    }
}
