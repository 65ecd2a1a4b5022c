//! The server-rendered pages as templates (minijinja): HTML and SVG files in `templates/`
//! beside this module, compiled into the binary, every value escaped unless a template marks it
//! safe (an SVG the server drew, the page configuration already made safe for a script element).
//!
//! minijinja rather than askama or maud: the templates stay plain HTML files a designer can
//! read, they need no procedural macro or top-level configuration file, and a test renders each
//! one so a mistake fails the build's tests rather than a user's request.

use std::sync::OnceLock;

use minijinja::{AutoEscape, Environment};
use serde::Serialize;

use crate::error::AppError;

const TEMPLATES: [(&str, &str); 8] = [
    ("base.html", include_str!("templates/base.html")),
    ("document.html", include_str!("templates/document.html")),
    ("app.html", include_str!("templates/app.html")),
    ("public.html", include_str!("templates/public.html")),
    ("tv.html", include_str!("templates/tv.html")),
    ("verify.html", include_str!("templates/verify.html")),
    ("sheet.html", include_str!("templates/sheet.html")),
    ("badge.svg", include_str!("templates/badge.svg")),
];

fn environment() -> Result<&'static Environment<'static>, AppError> {
    static ENVIRONMENT: OnceLock<Result<Environment<'static>, minijinja::Error>> = OnceLock::new();
    ENVIRONMENT
        .get_or_init(|| {
            let mut env = Environment::new();
            env.set_auto_escape_callback(|name| {
                if name.ends_with(".html") || name.ends_with(".svg") {
                    AutoEscape::Html
                } else {
                    AutoEscape::None
                }
            });
            env.set_formatter(escape_five);
            for (name, source) in TEMPLATES {
                env.add_template(name, source)?;
            }
            Ok(env)
        })
        .as_ref()
        .map_err(|e| AppError::internal(e.to_string()))
}

/// Writes a value into an HTML or SVG template with `&`, `<`, `>`, `"` and `'` escaped, and
/// nothing else: minijinja's own escaping also turns `/` into `&#x2f;`, which is valid but
/// makes every address in a page (and the snippet a webmaster copies) unreadable in its source.
fn escape_five(
    out: &mut minijinja::Output<'_>,
    state: &minijinja::State<'_, '_>,
    value: &minijinja::Value,
) -> Result<(), minijinja::Error> {
    if state.auto_escape() == AutoEscape::None
        || value.is_safe()
        || value.is_undefined()
        || value.is_none()
    {
        return minijinja::escape_formatter(out, state, value);
    }
    let text = value.to_string();
    let mut from = 0;
    for (at, c) in text.char_indices() {
        let entity = match c {
            '&' => "&amp;",
            '<' => "&lt;",
            '>' => "&gt;",
            '"' => "&quot;",
            '\'' => "&#39;",
            _ => continue,
        };
        out.write_str(&text[from..at])?;
        out.write_str(entity)?;
        from = at + 1;
    }
    out.write_str(&text[from..])?;
    Ok(())
}

/// Renders the template `name` with `context`.
pub fn render(name: &str, context: impl Serialize) -> Result<String, AppError> {
    environment()?
        .get_template(name)
        .and_then(|t| t.render(context))
        .map_err(AppError::internal)
}

#[cfg(test)]
mod tests {
    use super::*;
    use minijinja::context;

    #[test]
    fn every_template_parses_and_escapes_what_it_is_given() {
        for (name, _) in TEMPLATES {
            environment().unwrap().get_template(name).unwrap();
        }
        let html = render(
            "document.html",
            context! { title_id => "<b>Judul</b> & \"x\"", title_en => "Title" },
        )
        .unwrap();
        assert!(
            html.contains("<title>&lt;b&gt;Judul&lt;/b&gt; &amp; &quot;x&quot;</title>"),
            "{html}"
        );
        assert!(!html.contains("<b>Judul"));
        let config = r#"{"mode":"kiosk"}"#;
        let app = render(
            "app.html",
            context! { title => "T", assets => "survey", config },
        )
        .unwrap();
        assert!(
            app.contains(
                r#"<script type="application/json" id="kepuasan-config">{"mode":"kiosk"}</script>"#
            ),
            "{app}"
        );
    }
}
