//! Error text helpers shared by the adapters.

/// An error and its causes on one line, `": "`-separated, skipping a cause whose text the line
/// already holds (many libraries repeat their source in their own message).
pub fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cur {
        let s = err.to_string();
        if !parts.iter().any(|p| p.contains(&s)) {
            parts.push(s);
        }
        cur = err.source();
    }
    parts.join(": ")
}

#[cfg(test)]
mod tests {
    #[derive(Debug, thiserror::Error)]
    #[error("outer: {0}")]
    struct Repeats(#[source] std::io::Error);

    #[derive(Debug, thiserror::Error)]
    #[error("cannot read the listing")]
    struct Wraps(#[source] std::io::Error);

    #[test]
    fn causes_are_joined_once() {
        let io = || std::io::Error::other("connection reset");
        assert_eq!(super::chain(&Repeats(io())), "outer: connection reset");
        assert_eq!(
            super::chain(&Wraps(io())),
            "cannot read the listing: connection reset"
        );
    }
}
