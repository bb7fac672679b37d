//! STUB (replaced by the real module)
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub url: url::Url,
    pub title: String,
    pub body: Option<String>,
    pub published: Option<chrono::NaiveDate>,
}
#[derive(Debug, thiserror::Error)]
pub enum EntriesError {
    #[error("{0}")]
    Bad(String),
}
#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    #[error("{0}")]
    Bad(String),
}
pub fn parse_feed(_bytes: &[u8], _base: &url::Url) -> Result<Vec<Entry>, EntriesError> {
    Ok(vec![])
}
pub fn parse_wp_posts(_json: &str) -> Result<Vec<Entry>, EntriesError> {
    Ok(vec![])
}
pub fn wp_search_url(
    root: &url::Url,
    _term: &str,
    _after: Option<chrono::NaiveDate>,
    _page: u32,
) -> url::Url {
    root.clone()
}
pub fn wp_total_pages(_header: Option<&str>) -> u32 {
    1
}
pub fn expand_date_template(
    template: &str,
    _today: chrono::NaiveDate,
    _days: u32,
) -> Result<Vec<String>, TemplateError> {
    Ok(vec![template.to_owned()])
}
pub fn check_template(_template: &str) -> Result<(), TemplateError> {
    Ok(())
}
