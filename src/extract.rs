//! The extractors every handler takes its JSON body and its query string through: actix's own
//! (with their limits and the contract's error shape), then the text rule on every string and
//! key in them (`domain::rules::text`), so that no handler can forget it. A breach is a 422
//! naming the field.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, web};
use serde::de::DeserializeOwned;
use serde_json::value::RawValue;

use crate::domain::rules::{TEXT_RULE, text_breach};
use crate::error::AppError;

/// A JSON body of type `T` whose every string obeys the text rule.
#[derive(Debug)]
pub struct Json<T>(pub T);

impl<T> Json<T> {
    /// The body.
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> std::ops::Deref for Json<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: DeserializeOwned + 'static> FromRequest for Json<T> {
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        // Read as raw JSON under the app's JsonConfig (size, content type, syntax), checked,
        // then read as `T` from the same text (so `T`'s own rules, such as keys that must come
        // once, still apply).
        let raw = web::Json::<Box<RawValue>>::from_request(req, payload);
        Box::pin(async move {
            let raw = raw.await?.into_inner();
            let text = raw.get();
            // A forbidden character can only be written as an escape (\u0000, \b, \f):
            // only a body holding one is looked at closely.
            if (text.contains("\\u00") || text.contains("\\b") || text.contains("\\f"))
                && let Ok(value) = serde_json::from_str::<serde_json::Value>(text)
                && let Some(field) = text_breach(&value)
            {
                return Err(AppError::field(field, TEXT_RULE).into());
            }
            serde_json::from_str::<T>(text)
                .map(Json)
                .map_err(|e| deserialize_error(&e).into())
        })
    }
}

/// A query string of type `T` whose every name and value obeys the text rule.
#[derive(Debug)]
pub struct Query<T>(pub T);

impl<T> Query<T> {
    /// The query.
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> std::ops::Deref for Query<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: DeserializeOwned + 'static> FromRequest for Query<T> {
    type Error = actix_web::Error;
    type Future = std::future::Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let pairs = web::Query::<Vec<(String, String)>>::from_query(req.query_string())
            .map(web::Query::into_inner)
            .unwrap_or_default();
        let breach = pairs.iter().find_map(|(name, value)| {
            let bad = |s: &str| s.chars().any(crate::domain::rules::is_forbidden);
            (bad(name) || bad(value))
                .then(|| name.chars().filter(|c| !c.is_control()).collect::<String>())
        });
        if let Some(field) = breach {
            return std::future::ready(Err(AppError::field(field, TEXT_RULE).into()));
        }
        let inner = web::Query::<T>::from_request(req, payload).into_inner();
        std::future::ready(inner.map(|q| Query(q.into_inner())))
    }
}

/// A body that is JSON but not of the request's shape: 422 naming the field serde names.
pub fn deserialize_error(e: &serde_json::Error) -> AppError {
    let message = e.to_string();
    let field = quoted_field(&message)
        .filter(|_| message.contains("field"))
        .unwrap_or_else(|| "body".to_owned());
    AppError::field(field, message)
}

/// Field named in a serde message such as "missing field `unit`" or "unknown field `x`".
pub fn quoted_field(message: &str) -> Option<String> {
    let start = message.find('`')? + 1;
    let end = start + message[start..].find('`')?;
    Some(message[start..end].to_owned())
}
