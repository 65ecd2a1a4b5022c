//! The extractors every handler takes its JSON body and its query string through: actix's own
//! (with their limits and the contract's error shape), then the text rule on every string and
//! key in them (`domain::rules::text`), so that no handler can forget it. A breach is a 422
//! naming the field. Also the client's address as the limits count it ([`client_address`]).

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

/// The client's address: the peer, or behind a trusted reverse proxy the last entry of
/// `X-Forwarded-For` (the one the proxy appended; earlier entries are the client's word).
pub fn client_address(req: &HttpRequest, proxies: &[ipnet::IpNet]) -> Option<String> {
    let peer = req.peer_addr().map(|a| a.ip());
    let forwarded = || {
        req.headers()
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.rsplit(',').next())
            .and_then(|v| v.trim().parse::<std::net::IpAddr>().ok())
    };
    let from_proxy = peer.is_some_and(|ip| proxies.iter().any(|n| n.contains(&ip)));
    if from_proxy && let Some(client) = forwarded() {
        return Some(household(client));
    }
    if proxies.is_empty()
        && peer.is_some_and(|ip| ip.is_loopback())
        && req.headers().contains_key("x-forwarded-for")
    {
        static WARNED: std::sync::Once = std::sync::Once::new();
        WARNED.call_once(|| {
            tracing::warn!(
                "requests come through a reverse proxy but KEPUASAN_TRUST_PROXY is off: every \
                 respondent without a key shares the proxy's address for the rate limit"
            );
        });
    }
    peer.map(household)
}

/// An address as the limits count it: an IPv4 address alone; an IPv6 address by its /64, the
/// network one household or phone is given (it may take any address inside it).
fn household(ip: std::net::IpAddr) -> String {
    match ip {
        std::net::IpAddr::V6(v6) if v6.to_ipv4_mapped().is_none() => {
            let net = ipnet::Ipv6Net::new(v6, 64)
                .expect("64 is a prefix length")
                .trunc();
            net.to_string()
        }
        std::net::IpAddr::V6(v6) => v6.to_ipv4_mapped().expect("mapped").to_string(),
        v4 => v4.to_string(),
    }
}

/// The address printed in QR codes and links made for this request (receipt sheets and tokens,
/// kiosk enrolment): `KEPUASAN_PUBLIC_URL` when it is set; otherwise the address the request
/// was made to (the `Host` it names; behind a trusted proxy, the proxy's `X-Forwarded-Host` and
/// `-Proto`), unless that is a loopback address, which no phone or tablet can open: then a 409
/// saying why, as the command line refuses.
pub fn printed_base(
    req: &HttpRequest,
    settings: &crate::config::Settings,
) -> Result<String, AppError> {
    if settings.public_url_configured {
        return Ok(settings.public_url.trim_end_matches('/').to_owned());
    }
    let from_proxy = req
        .peer_addr()
        .is_some_and(|a| settings.trust_proxy.iter().any(|n| n.contains(&a.ip())));
    let (scheme, host) = if from_proxy {
        let info = req.connection_info();
        (info.scheme().to_owned(), info.host().to_owned())
    } else {
        let host = req
            .headers()
            .get(actix_web::http::header::HOST)
            .and_then(|h| h.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        ("http".to_owned(), host)
    };
    let name = match url::Url::parse(&format!("{scheme}://{host}/")) {
        Ok(parsed) => parsed.host().map(|h| h.to_owned()),
        Err(_) => None,
    };
    let loopback = match &name {
        None => true,
        Some(url::Host::Domain(d)) => {
            let d = d.trim_end_matches('.').to_ascii_lowercase();
            d == "localhost" || d.ends_with(".localhost")
        }
        Some(url::Host::Ipv4(ip)) => ip.is_loopback() || ip.is_unspecified(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback() || ip.is_unspecified(),
    };
    if loopback {
        return Err(AppError::new(
            crate::error::Kind::PublicUrlNeeded,
            format!(
                "KEPUASAN_PUBLIC_URL belum diatur dan halaman ini dibuka di {host}, alamat yang tidak bisa dibuka ponsel atau tablet; atur KEPUASAN_PUBLIC_URL ke alamat yang dicapai responden (misalnya https://skm.example.go.id) atau buka /admin di alamat itu, lalu cetak lagi. (KEPUASAN_PUBLIC_URL is not set and this page was opened at {host}, which no phone or tablet can open.)"
            ),
        ));
    }
    Ok(format!("{scheme}://{host}"))
}

/// The language a request asks its messages in: Bahasa Indonesia when its `Accept-Language`
/// puts Indonesian first (the pages send their own language), English otherwise: the API's
/// language for a client that asks for none.
pub fn language(req: &HttpRequest) -> crate::instrument::Lang {
    let first = req
        .headers()
        .get(actix_web::http::header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(',').next())
        .map(|tag| {
            tag.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        });
    match first.as_deref() {
        Some(tag) if tag == "id" || tag.starts_with("id-") || tag == "in" => {
            crate::instrument::Lang::Id
        }
        _ => crate::instrument::Lang::En,
    }
}
