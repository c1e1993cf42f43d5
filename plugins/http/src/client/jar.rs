//! The cookie jar of `http.client{cookies = true}`: RFC 6265 rules (domain, path, expiry,
//! `Secure`, `HttpOnly`) by the `cookie_store` crate, as reqwest's own jar, with the bounds
//! RFC 6265 §6.1 lets a user agent set, so a server cannot grow it (and the `Cookie` header
//! sent back) without end:
//!
//! - a cookie whose `Set-Cookie` line (name, value and attributes) is over [`MAX_COOKIE_BYTES`]
//!   (4096) is ignored, as browsers ignore it;
//! - at most [`MAX_PER_DOMAIN`] (50) cookies per domain and [`MAX_COOKIES`] (3000) in all: past
//!   either, the least recently used cookies (set or sent longest ago) are evicted first, as
//!   RFC 6265 §5.3 orders it; expired cookies go before any other.
//!
//! So the jar holds at most about 12 MiB however many requests a client makes, and a request
//! carries at most 50 cookies of its domain (about 200 KiB) plus those of parent domains.

use std::collections::HashMap;
use std::sync::Mutex;

use reqwest::Url;
use reqwest::header::HeaderValue;

/// The most bytes of one `Set-Cookie` line kept (RFC 6265 §6.1: at least 4096).
pub(crate) const MAX_COOKIE_BYTES: usize = 4096;
/// The most cookies kept per domain (RFC 6265 §6.1: at least 50).
pub(crate) const MAX_PER_DOMAIN: usize = 50;
/// The most cookies kept in all (RFC 6265 §6.1: at least 3000).
pub(crate) const MAX_COOKIES: usize = 3000;

/// A cookie's identity in the store: domain, path, name.
type Key = (String, String, String);

/// A bounded cookie jar (see the module docs).
#[derive(Default)]
pub(crate) struct BoundedJar {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    store: cookie_store::CookieStore,
    /// When each cookie was last set or sent, on [`Inner::clock`].
    used: HashMap<Key, u64>,
    clock: u64,
}

fn key_of(cookie: &cookie_store::Cookie<'_>) -> Key {
    (
        String::from(&cookie.domain),
        String::from(&cookie.path),
        cookie.name().to_owned(),
    )
}

impl Inner {
    fn tick(&mut self) -> u64 {
        self.clock += 1;
        self.clock
    }

    /// Stores one `Set-Cookie` line received from `url` (ignored when too large or invalid,
    /// as a browser ignores it).
    fn set(&mut self, line: &[u8], url: &Url) {
        if line.len() > MAX_COOKIE_BYTES {
            return;
        }
        let Ok(text) = std::str::from_utf8(line) else {
            return;
        };
        let Ok(cookie) = cookie_store::Cookie::parse(text, url) else {
            return;
        };
        let cookie = cookie.into_owned();
        let key = key_of(&cookie);
        if self.store.insert(cookie, url).is_ok() {
            let now = self.tick();
            self.used.insert(key, now);
        }
    }

    /// The `Cookie` header for a request to `url`; the cookies sent count as used.
    fn header(&mut self, url: &Url) -> Option<HeaderValue> {
        let (keys, pairs): (Vec<Key>, Vec<String>) = self
            .store
            .matches(url)
            .into_iter()
            .map(|c| (key_of(c), format!("{}={}", c.name(), c.value())))
            .unzip();
        if pairs.is_empty() {
            return None;
        }
        let now = self.tick();
        for key in keys {
            self.used.insert(key, now);
        }
        // Bytes as received (a value may hold obs-text), as reqwest's own jar sends them.
        HeaderValue::from_bytes(pairs.join("; ").as_bytes()).ok()
    }

    /// Evicts expired cookies, then the least recently used past [`MAX_PER_DOMAIN`] in a
    /// domain and past [`MAX_COOKIES`] in all.
    fn evict(&mut self) {
        let mut live: Vec<(u64, Key)> = Vec::new();
        let mut expired: Vec<Key> = Vec::new();
        for cookie in self.store.iter_any() {
            let key = key_of(cookie);
            if cookie.is_expired() {
                expired.push(key);
            } else {
                live.push((self.used.get(&key).copied().unwrap_or(0), key));
            }
        }
        let mut gone = expired;
        // Oldest first.
        live.sort();
        let mut per_domain: HashMap<&str, usize> = HashMap::new();
        for (_, key) in &live {
            *per_domain.entry(key.0.as_str()).or_default() += 1;
        }
        let mut kept = Vec::with_capacity(live.len());
        for (used, key) in &live {
            let count = per_domain.get_mut(key.0.as_str()).expect("counted above");
            if *count > MAX_PER_DOMAIN {
                *count -= 1;
                gone.push(key.clone());
            } else {
                kept.push((*used, key));
            }
        }
        let over = kept.len().saturating_sub(MAX_COOKIES);
        gone.extend(kept[..over].iter().map(|(_, key)| (*key).clone()));
        for (domain, path, name) in &gone {
            self.store.remove(domain, path, name);
            self.used
                .remove(&(domain.clone(), path.clone(), name.clone()));
        }
    }
}

impl BoundedJar {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// How many cookies the jar holds (expired ones not yet evicted included).
    #[cfg(test)]
    fn len(&self) -> usize {
        self.lock().store.iter_any().count()
    }
}

impl reqwest::cookie::CookieStore for BoundedJar {
    fn set_cookies(&self, cookie_headers: &mut dyn Iterator<Item = &HeaderValue>, url: &Url) {
        let mut inner = self.lock();
        for line in cookie_headers {
            inner.set(line.as_bytes(), url);
        }
        inner.evict();
    }

    fn cookies(&self, url: &Url) -> Option<HeaderValue> {
        self.lock().header(url)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::cookie::CookieStore as _;

    fn url(text: &str) -> Url {
        Url::parse(text).expect("url")
    }

    fn set(jar: &BoundedJar, at: &str, lines: &[String]) {
        let values: Vec<HeaderValue> = lines
            .iter()
            .map(|l| HeaderValue::from_str(l).expect("value"))
            .collect();
        jar.set_cookies(&mut values.iter(), &url(at));
    }

    fn names(jar: &BoundedJar, at: &str) -> Vec<String> {
        let Some(header) = jar.cookies(&url(at)) else {
            return Vec::new();
        };
        let mut names: Vec<String> = header
            .to_str()
            .expect("text")
            .split("; ")
            .map(|pair| pair.split('=').next().unwrap_or_default().to_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn a_cookie_over_4096_bytes_is_ignored() {
        let jar = BoundedJar::default();
        let fits = format!("a={}", "x".repeat(MAX_COOKIE_BYTES - 2));
        let over = format!("b={}", "x".repeat(MAX_COOKIE_BYTES - 1));
        set(&jar, "http://a.test/", &[fits, over]);
        assert_eq!(names(&jar, "http://a.test/"), vec!["a"]);
    }

    #[test]
    fn a_domain_keeps_its_50_most_recently_used_cookies() {
        let jar = BoundedJar::default();
        let lines = |prefix: &str, range: std::ops::Range<usize>, path: &str| -> Vec<String> {
            range
                .map(|i| format!("{prefix}{i:02}=v; Path={path}"))
                .collect()
        };
        set(&jar, "http://a.test/", &lines("x", 0..25, "/x"));
        set(&jar, "http://a.test/", &lines("y", 25..50, "/y"));
        // The /x cookies are sent (used) now; the /y ones are not.
        assert_eq!(names(&jar, "http://a.test/x").len(), 25);
        set(&jar, "http://a.test/", &lines("n", 0..10, "/"));
        assert_eq!(jar.len(), MAX_PER_DOMAIN);
        let y = names(&jar, "http://a.test/y");
        let expected: Vec<String> = (35..50).map(|i| format!("y{i:02}")).collect();
        let y_only: Vec<String> = y.into_iter().filter(|n| n.starts_with('y')).collect();
        assert_eq!(y_only, expected, "the 10 least recently used go");
        assert_eq!(
            names(&jar, "http://a.test/x")
                .iter()
                .filter(|n| n.starts_with('x'))
                .count(),
            25
        );
        // Another domain has its own 50.
        set(&jar, "http://b.test/", &lines("b", 0..50, "/"));
        assert_eq!(jar.len(), 2 * MAX_PER_DOMAIN);
    }

    #[test]
    fn the_jar_keeps_at_most_3000_cookies() {
        let jar = BoundedJar::default();
        for d in 0..61 {
            let lines: Vec<String> = (0..50).map(|i| format!("c{i}=v")).collect();
            set(&jar, &format!("http://d{d}.test/"), &lines);
        }
        assert_eq!(jar.len(), MAX_COOKIES);
        // The first domain's cookies were the least recently used: they went.
        assert!(names(&jar, "http://d0.test/").is_empty());
        assert_eq!(names(&jar, "http://d60.test/").len(), 50);
    }

    #[test]
    fn expired_cookies_are_removed() {
        let jar = BoundedJar::default();
        set(
            &jar,
            "http://a.test/",
            &["a=1".to_owned(), "b=2".to_owned()],
        );
        set(
            &jar,
            "http://a.test/",
            &["a=; Expires=Thu, 01 Jan 1970 00:00:00 GMT".to_owned()],
        );
        assert_eq!(jar.len(), 1);
        assert_eq!(names(&jar, "http://a.test/"), vec!["b"]);
    }
}
