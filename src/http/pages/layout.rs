//! The frame every page shares: the document head with its one small stylesheet, the top bar
//! (worklist, search, who is signed in, sign-out) and the error page.

use maud::{html, Markup, PreEscaped, DOCTYPE};

use super::labels::labels;

/// Who is looking, for the top bar; `None` on the sign-in page.
pub struct Chrome<'a> {
    pub person: &'a str,
    /// The form token of the session (sign-out is a form too).
    pub csrf: &'a str,
}

/// Sized for a laptop and a tablet; contrast at least 4.5:1; focus always visible.
const STYLE: &str = r#"
:root{--ink:#1b1f24;--muted:#4a5561;--line:#c9d1d9;--bg:#ffffff;--band:#f3f5f7;--link:#0b5cad;--warn:#8a1c1c;--ok:#1d6b33}
*{box-sizing:border-box}
body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--ink);background:var(--bg)}
a{color:var(--link)}
a:focus,button:focus,input:focus,select:focus,textarea:focus,summary:focus{outline:3px solid #f0b400;outline-offset:2px}
.skip{position:absolute;left:-999px}.skip:focus{left:8px;top:8px;background:#fff;padding:4px 8px}
header.top{display:flex;flex-wrap:wrap;gap:12px;align-items:center;justify-content:space-between;padding:8px 16px;background:#16324f;color:#fff}
header.top a,header.top span{color:#fff}
header.top nav{display:flex;flex-wrap:wrap;gap:16px;align-items:center}
header.top form{display:inline-flex;gap:6px;align-items:center;margin:0}
main{max-width:1100px;margin:0 auto;padding:16px}
h1{font-size:1.6rem;margin:.4em 0}h2{font-size:1.25rem;margin:1.4em 0 .4em;border-bottom:2px solid var(--line)}h3{font-size:1.05rem;margin:1em 0 .3em}
table{border-collapse:collapse;width:100%;margin:.5em 0}
th,td{border-bottom:1px solid var(--line);padding:6px 8px;text-align:left;vertical-align:top}
th{background:var(--band)}
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:4px 16px}dl.facts dt{font-weight:600}dl.facts dd{margin:0}
form.bar{display:flex;flex-wrap:wrap;gap:12px;align-items:flex-end;background:var(--band);padding:10px;border-radius:6px}
form.bar label{display:flex;flex-direction:column;font-size:.9rem}
input,select,textarea,button{font:inherit;padding:6px 8px;border:1px solid #6b7580;border-radius:4px}
button{background:#0b5cad;color:#fff;border-color:#0b5cad;cursor:pointer}
header.top button{background:#fff;color:#16324f}
.field{margin:0 0 14px}.field label{display:block;font-weight:600}
.hint{color:var(--muted);font-size:.9rem}
.error{color:var(--warn);font-weight:600}
.notice{border-left:4px solid var(--ok);background:#eef7f0;padding:8px 12px}
.alert{border-left:4px solid var(--warn);background:#fbeeee;padding:8px 12px}
ul.counts{display:flex;flex-wrap:wrap;gap:8px;list-style:none;padding:0}
ul.counts li{background:var(--band);border:1px solid var(--line);border-radius:4px;padding:4px 10px}
ul.legend{display:flex;flex-wrap:wrap;gap:6px 16px;list-style:none;padding:0}
.swatch{display:inline-block;width:14px;height:14px;margin-right:6px;border-radius:2px;vertical-align:middle}
.chart svg{max-width:100%;height:auto}
.struck{text-decoration:line-through;color:var(--muted)}
ul.actions{display:flex;flex-wrap:wrap;gap:10px;list-style:none;padding:0}
ul.actions a{display:inline-block;padding:6px 10px;border:1px solid var(--link);border-radius:4px;text-decoration:none}
"#;

/// A whole page: `title` names it in the tab and as its first heading's context.
pub fn page(title: &str, chrome: Option<&Chrome>, main: Markup) -> Markup {
    let l = labels();
    html! {
        (DOCTYPE)
        html lang=(l.lang) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · " (l.app_name) }
                style { (PreEscaped(STYLE)) }
            }
            body {
                a.skip href="#main" { (l.skip_to_content) }
                header.top {
                    nav aria-label=(l.main_menu) {
                        strong { (l.app_name) }
                        @if let Some(chrome) = chrome {
                            a href="/pages/worklist" { (l.worklist) }
                            form role="search" method="get" action="/pages/search" {
                                label for="top-search" { (l.search_label) }
                                input #top-search type="search" name="q" placeholder=(l.search_hint);
                                button type="submit" { (l.search_button) }
                            }
                            span { (l.signed_in_as) " " (chrome.person) }
                            form method="post" action="/pages/sign-out" {
                                input type="hidden" name="csrf" value=(chrome.csrf);
                                button type="submit" { (l.sign_out) }
                            }
                        }
                    }
                }
                main #main { (main) }
            }
        }
    }
}

/// The page of an error: what is wrong, and the way back.
pub fn error_page(chrome: Option<&Chrome>, message: &str) -> Markup {
    let l = labels();
    page(
        l.error_title,
        chrome,
        html! {
            h1 { (l.error_title) }
            p.alert role="alert" { (message) }
            p { a href="/pages/worklist" { (l.back_to_worklist) } }
        },
    )
}
