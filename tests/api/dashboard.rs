//! The dashboard's files: served at `/` from the assets embedded in the binary, with caching
//! that suits Vite's hashed names, the app's page for its own routes, and JSON 404s kept for
//! the API.

use reqwest::header::{CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, ETAG, IF_NONE_MATCH};

use crate::helpers::spawn_app;

fn header<'a>(response: &'a reqwest::Response, name: &reqwest::header::HeaderName) -> &'a str {
    response.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or_default()
}

/// The first `/assets/…` file the page names.
fn first_asset(page: &str) -> String {
    let start = page.find("/assets/").expect("the page names a hashed asset");
    let end = start + page[start..].find('"').expect("quoted");
    page[start..end].to_string()
}

#[tokio::test]
async fn the_page_is_revalidated_and_hashed_assets_are_cached_for_good() {
    let app = spawn_app().await;
    let page = app.client.get(app.url("/")).send().await.expect("request");
    assert_eq!(page.status(), 200);
    assert_eq!(header(&page, &CACHE_CONTROL), "no-cache");
    assert!(header(&page, &CONTENT_TYPE).starts_with("text/html"));
    assert!(header(&page, &CONTENT_SECURITY_POLICY).contains("default-src 'self'"));
    let etag = header(&page, &ETAG).to_string();
    let body = page.text().await.expect("text");
    assert!(body.contains("<div id=\"root\">"), "the app's page: {body}");

    let again = app.client.get(app.url("/")).header(IF_NONE_MATCH, &etag).send().await.expect("request");
    assert_eq!(again.status(), 304, "an unchanged page is not sent again");

    let asset = app.client.get(app.url(&first_asset(&body))).send().await.expect("request");
    assert_eq!(asset.status(), 200);
    assert_eq!(header(&asset, &CACHE_CONTROL), "public, max-age=31536000, immutable");
    assert!(header(&asset, &CONTENT_TYPE).contains("javascript") || header(&asset, &CONTENT_TYPE).contains("css"));
}

#[tokio::test]
async fn app_routes_get_the_page_and_missing_files_or_api_routes_get_json_404s() {
    let app = spawn_app().await;
    let route = app.client.get(app.url("/jobs/some-job")).send().await.expect("request");
    assert_eq!(route.status(), 200);
    assert!(route.text().await.expect("text").contains("<div id=\"root\">"));

    for missing in ["/assets/missing-0000.js", "/api/v1/nope", "/api/v2/recursion/jobs", "/ws/other"] {
        let response = app.client.get(app.url(missing)).send().await.expect("request");
        assert_eq!(response.status(), 404, "{missing}");
        assert_eq!(header(&response, &CONTENT_TYPE), "application/problem+json", "{missing}");
    }
    let post = app.client.post(app.url("/jobs")).send().await.expect("request");
    assert_eq!(post.status(), 404, "only GET and HEAD reach the page");
}
