//! STUB
pub struct Extracted {
    pub title: Option<String>,
    pub body: String,
    pub published: Option<chrono::NaiveDate>,
    pub date_source: Option<&'static str>,
}
pub fn extract(_html: &str, _url: &str) -> Option<Extracted> {
    None
}
pub fn date_from_url(_url: &str) -> Option<chrono::NaiveDate> {
    None
}
