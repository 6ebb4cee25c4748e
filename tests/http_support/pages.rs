//! A browser-less client of the clinicians' pages: signs in through the sign-in form (its token
//! cookie and hidden field), keeps the session cookie, reads a page's form token, posts forms,
//! and never follows redirects (so a test sees each 303 and where it leads).

use reqwest::header::{HeaderMap, COOKIE, LOCATION, SET_COOKIE};
use reqwest::redirect::Policy;
use reqwest::StatusCode;

use super::{password_of, Server};

pub struct PageReply {
    pub status: StatusCode,
    pub body: String,
    pub headers: HeaderMap,
}

impl PageReply {
    pub fn location(&self) -> &str {
        self.headers
            .get(LOCATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }
}

/// A signed-in browser, as far as the server can tell.
pub struct PageSession {
    pub base: String,
    client: reqwest::Client,
    /// The session cookie's value.
    pub session: String,
}

/// The value of the cookie `name` set by a reply.
pub fn set_cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| v.split(';').next())
        .filter_map(|pair| pair.split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, v)| v.to_string())
}

/// The value of the first hidden `csrf` field of a page.
pub fn form_token(html: &str) -> Option<String> {
    hidden_value(html, "csrf")
}

/// The value of the first `<input ... name="NAME" value="...">` of a page.
pub fn hidden_value(html: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker)? + marker.len();
    let end = html[start..].find('"')? + start;
    Some(html[start..end].to_string())
}

pub fn plain_client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(Policy::none())
        .build()
        .expect("an HTTP client")
}

async fn reply(response: reqwest::Response) -> PageReply {
    let status = response.status();
    let headers = response.headers().clone();
    let body = response.text().await.expect("a text body");
    PageReply {
        status,
        body,
        headers,
    }
}

/// Fetches the sign-in form: its token (also set as a cookie).
pub async fn sign_in_token(client: &reqwest::Client, base: &str) -> String {
    let page = reply(
        client
            .get(format!("{base}/pages/sign-in"))
            .send()
            .await
            .expect("GET the sign-in page"),
    )
    .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let token = form_token(&page.body).expect("the sign-in form carries a token");
    assert_eq!(
        set_cookie(&page.headers, "lifecourse_sign_in").as_deref(),
        Some(token.as_str()),
        "the sign-in token is also set as a cookie"
    );
    token
}

impl PageSession {
    /// Signs `person` (registered with `Server::staff`) in through the form.
    pub async fn sign_in(server: &Server, person: &str) -> PageSession {
        let client = plain_client();
        let token = sign_in_token(&client, &server.base).await;
        let body = serde_urlencoded::to_string([
            ("csrf", token.as_str()),
            ("next", "/pages/worklist"),
            ("person", person),
            ("password", &password_of(person)),
        ])
        .unwrap();
        let signed = reply(
            client
                .post(format!("{}/pages/sign-in", server.base))
                .header(COOKIE, format!("lifecourse_sign_in={token}"))
                .header("content-type", "application/x-www-form-urlencoded")
                .body(body)
                .send()
                .await
                .expect("POST the sign-in form"),
        )
        .await;
        assert_eq!(signed.status, StatusCode::SEE_OTHER, "{}", signed.body);
        assert_eq!(signed.location(), "/pages/worklist");
        let session =
            set_cookie(&signed.headers, "lifecourse_session").expect("a session cookie is set");
        PageSession {
            base: server.base.clone(),
            client,
            session,
        }
    }

    pub async fn get(&self, path: &str) -> PageReply {
        reply(
            self.client
                .get(format!("{}{path}", self.base))
                .header(COOKIE, format!("lifecourse_session={}", self.session))
                .send()
                .await
                .expect("GET a page"),
        )
        .await
    }

    /// Posts `fields` as a form.
    pub async fn post(&self, path: &str, fields: &[(&str, &str)]) -> PageReply {
        let body = serde_urlencoded::to_string(fields).unwrap();
        reply(
            self.client
                .post(format!("{}{path}", self.base))
                .header(COOKIE, format!("lifecourse_session={}", self.session))
                .header("content-type", "application/x-www-form-urlencoded")
                .body(body)
                .send()
                .await
                .expect("POST a form"),
        )
        .await
    }

    /// This session's form token, read from a page.
    pub async fn token(&self) -> String {
        let page = self.get("/pages/worklist").await;
        form_token(&page.body).expect("every signed-in page carries the sign-out form's token")
    }
}
