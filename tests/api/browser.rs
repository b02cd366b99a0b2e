//! A browser for the stories: keeps the session cookie, sends forms as a
//! browser does, follows no redirects.

use reqwest::header::{HeaderMap, COOKIE, LOCATION, SET_COOKIE};
use reqwest::redirect::Policy;

use crate::helpers::{TestApp, TestUser};

/// A browser: keeps the session cookie, does not follow redirects.
pub struct Browser {
    pub client: reqwest::Client,
    pub base: String,
    pub cookie: Option<String>,
}

impl Browser {
    pub fn new(app: &TestApp) -> Browser {
        Browser {
            client: reqwest::Client::builder()
                .redirect(Policy::none())
                .build()
                .expect("client"),
            base: app.address.clone(),
            cookie: None,
        }
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        let mut request = self.client.get(format!("{}{path}", self.base));
        if let Some(cookie) = &self.cookie {
            request = request.header(COOKIE, cookie);
        }
        request.send().await.expect("request")
    }

    pub async fn post_form(
        &self,
        path: &str,
        form: &[(&str, &str)],
        extra: &[(&str, &str)],
    ) -> reqwest::Response {
        let mut request = self.client.post(format!("{}{path}", self.base)).form(form);
        if let Some(cookie) = &self.cookie {
            request = request.header(COOKIE, cookie);
        }
        // What a browser sends for its own form, unless the story says otherwise.
        if !extra.iter().any(|(name, _)| *name == "sec-fetch-site") {
            request = request.header("sec-fetch-site", "same-origin");
        }
        for (name, value) in extra {
            request = request.header(*name, *value);
        }
        request.send().await.expect("request")
    }

    /// A JSON request to the API with the session cookie, as the pages'
    /// own script would send it (same origin).
    pub async fn post_json(&self, path: &str, body: &serde_json::Value) -> reqwest::Response {
        let mut request = self
            .client
            .post(format!("{}{path}", self.base))
            .json(body)
            .header("sec-fetch-site", "same-origin");
        if let Some(cookie) = &self.cookie {
            request = request.header(COOKIE, cookie);
        }
        request.send().await.expect("request")
    }

    /// Logs in; keeps the cookie and returns the response.
    pub async fn login(&mut self, user: &TestUser) -> reqwest::Response {
        let response = self
            .post_form(
                "/login",
                &[
                    ("email", &user.email),
                    ("password", &user.password),
                    ("next", ""),
                ],
                &[],
            )
            .await;
        if let Some(cookie) = session_cookie(response.headers()) {
            self.cookie = Some(cookie);
        }
        response
    }

    /// The page's form token (every page with a form carries it).
    pub async fn csrf(&self, path: &str) -> String {
        let page = self.get(path).await.text().await.expect("page");
        let marker = "name=\"csrf\" value=\"";
        let start = page.find(marker).expect("a form with a csrf token") + marker.len();
        page[start..].split('"').next().expect("token").to_string()
    }
}

/// `name=value` of the session cookie set by a response.
pub fn session_cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("__Host-jbt_session=") && !v.contains("Max-Age=0"))
        .and_then(|v| v.split(';').next())
        .map(str::to_string)
}

pub fn location(response: &reqwest::Response) -> String {
    response
        .headers()
        .get(LOCATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string()
}
