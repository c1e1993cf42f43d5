//! The HTTP client: `http.get/post/put/patch/delete/request` and `http.client(opts)`.
//!
//! Every network function is async: its future runs on the plugin's runtime while the calling
//! coroutine waits, so requests from `async.spawn`ed tasks overlap. 4xx and 5xx are responses;
//! only a request that got no response (refused, timed out, TLS, DNS, too many redirects, a
//! body over `max_body`) raises.
//!
//! Decisions, where API.md is silent:
//! - Redirects are followed, up to 10, unless `follow_redirects` says otherwise (`false`: the
//!   3xx response is returned; a number: that many at most).
//! - Time limits: a connection must be up within 30 s (`connect_timeout`, per client), and a
//!   whole request, from connecting to the last byte of the body, must finish within 60 s
//!   (`timeout`, per client or per call). A number of seconds changes either; `false` turns it
//!   off (a long poll, a slow download). Without a default total limit, a server that accepts
//!   the connection and never answers hangs a Kubernetes Job forever; a minute is long for an
//!   API call (boto3 and the AWS CLI also give up on a silent server after 60 s) and enough
//!   for a body up to the default `max_body` (64 MiB) at about a MB/s, and the error says
//!   which limit fired and how to change it.
//! - Requests carry `user-agent: assay/<version>` unless the headers set one (many APIs refuse
//!   requests without it).
//! - Proxies: `proxy` when given, else the usual `HTTP_PROXY`/`HTTPS_PROXY`/`NO_PROXY`
//!   variables, as curl and requests do.
//! - Trust: the system's roots (its CA bundle; `SSL_CERT_FILE`/`SSL_CERT_DIR` point elsewhere,
//!   as with OpenSSL) plus `ca_cert`. A system without any root certificates (a scratch image)
//!   still gets a client; it trusts `ca_cert` only.
//! - Bodies are read whole, at most `max_body` bytes (default 64 MiB), and never more than
//!   the calling script's memory limit (a body written to `output` is bounded only by a
//!   `max_body` given; a stream bounds each line): the bytes are buffered outside that limit until they
//!   become a Lua string, and a larger body could not become one. The error says which bound
//!   applied: `larger than max_body (N bytes)` or `larger than the script's memory limit of
//!   16 MiB (raise --memory-limit)`.
//! - `resp:json()` is the host's JSON decoder (the core's `json.parse`, straight into Lua
//!   tables under the memory limit), when the host offers it; an older host gets the plugin's
//!   own decoder ([`crate::json`]).
//! - Files named by options (`ca_cert`, `client_cert`, `client_key`) must be regular files of
//!   at most 1 MiB, and so must `SSL_CERT_FILE` when set (4 MiB: a system bundle): a path to
//!   `/dev/zero` or a FIFO is an error naming it, not an endless read or a hang.
//! - `http.get` and friends share one client, made at their first call (never at start-up or
//!   plugin load: reading the system's roots costs milliseconds); its connections are pooled.
//!   It keeps no cookies; `http.client{cookies = true}` keeps a jar across its own requests
//!   (RFC 6265 rules: domain, path, expiry, `Secure`; public suffixes refused), as a
//!   `requests.Session` does. The jar lives as long as the client, and is bounded as RFC 6265
//!   §6.1 allows: cookies over 4096 bytes are ignored, and past 50 per domain or 3000 in all
//!   the least recently used are evicted (see `jar`).
//! - Compressed responses (gzip, br, deflate, zstd) are decoded, and `accept-encoding` says
//!   so, unless a call passes `decompress = false`: then no `accept-encoding` is added (set
//!   one in `headers` to ask for a coding), and the body and its `content-encoding` come as
//!   the server sent them. `max_body` bounds the decoded body, so a small compressed body
//!   cannot expand past it. The plugin decodes, not reqwest: stacked codings (`gzip, gzip`),
//!   raw deflate, and zstd windows bounded by RFC 9659 and the memory limit (see `decode`).
//! - `output`, `stream`, `auth`, `form`, `multipart`: see `download`, `stream`, `request`.

mod call_options;
pub(crate) mod certs;
mod decode;
pub(crate) mod download;
pub(crate) mod errors;
mod jar;
mod options;
mod redirects;
mod request;
mod response;
mod stream;

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use assay_sdk::{Args, Error, Global, Methods, Object, ObjectType, Result, Value};
use reqwest::Url;
use reqwest::header::{CONTENT_TYPE, USER_AGENT};

use self::options::{ClientSpec, DEFAULT_CONNECT_TIMEOUT, Limit};
use self::request::{Call, Verb};

/// Registers the client functions on the `http` global.
pub fn register(http: &mut Global) {
    for (name, verb) in Verb::ALL {
        http.async_function(name, move |args: Args| {
            let call = Call::read(verb, &args);
            async move {
                let call = call?;
                let client = default_client()?;
                call.send(&client).await
            }
        });
    }
    http.async_function("client", |args: Args| {
        let spec = args
            .at_most(1, 0)
            .and_then(|()| args.options(1, "opts"))
            .and_then(|opts| ClientSpec::read(&opts))
            .and_then(|spec| {
                if assay_sdk::host::sandboxed() {
                    spec.refuse_files()?;
                }
                Ok(spec)
            });
        async move { Ok(Object::new(HttpClient::build(spec?)?)) }
    });
}

/// The client behind `http.get` and friends, made at the first call: one per Lua thread the
/// host drives (its pooled connections live on that thread's reactor, which only that thread
/// advances), one for the plugin's own runtime otherwise.
fn default_client() -> Result<Arc<HttpClient>> {
    type Made = std::result::Result<Arc<HttpClient>, String>;
    fn make() -> Made {
        HttpClient::build(ClientSpec::default())
            .map(Arc::new)
            .map_err(Error::into_message)
    }
    thread_local! {
        static ON_THIS_THREAD: std::cell::OnceCell<Made> = const { std::cell::OnceCell::new() };
    }
    static SHARED: OnceLock<Made> = OnceLock::new();
    let made = if assay_sdk::reactor::on_lua_thread() {
        ON_THIS_THREAD.with(|c| c.get_or_init(make).clone())
    } else {
        SHARED.get_or_init(make).clone()
    };
    made.map_err(Error::new)
}

/// An HTTP client: a reqwest client (pooled connections, TLS set-up) and the defaults its
/// requests start from. Lua sees it as `http.Client`.
pub struct HttpClient {
    /// Never decodes bodies itself: the plugin does (see `decode`).
    inner: reqwest::Client,
    recipe: Recipe,
    base_url: Option<Url>,
    /// The client's `timeout` (each call's own wins; unset, the default applies).
    timeout: Limit,
    /// The connect limit the client was built with (`None`: off).
    connect_timeout: Option<Duration>,
    /// The client's `max_body` (each call's own wins; unset, the default applies).
    max_body: Option<u64>,
    max_redirects: usize,
    /// Whether the default headers set a content type (a table body then keeps it).
    has_content_type: bool,
}

/// What the reqwest client of this `HttpClient` is made from.
struct Recipe {
    headers: reqwest::header::HeaderMap,
    max_redirects: usize,
    insecure: bool,
    roots: Vec<reqwest::Certificate>,
    identity: Option<reqwest::Identity>,
    proxy: Option<reqwest::Proxy>,
    connect_timeout: Option<Duration>,
    jar: Option<Arc<jar::BoundedJar>>,
}

impl Recipe {
    fn make(&self, only_ours: bool) -> reqwest::Result<reqwest::Client> {
        let mut builder = reqwest::Client::builder()
            .default_headers(self.headers.clone())
            .redirect(redirects::policy(self.max_redirects))
            .tls_danger_accept_invalid_certs(self.insecure)
            // The plugin decodes bodies (see `decode`): reqwest's decoder would leave stacked
            // codings encoded, refuse raw deflate and let zstd windows ignore the memory limit.
            .gzip(false)
            .brotli(false)
            .zstd(false)
            .deflate(false);
        builder = if only_ours {
            builder.tls_certs_only(self.roots.clone())
        } else {
            builder.tls_certs_merge(self.roots.clone())
        };
        if let Some(identity) = &self.identity {
            builder = builder.identity(identity.clone());
        }
        if let Some(proxy) = &self.proxy {
            builder = builder.proxy(proxy.clone());
        }
        if let Some(limit) = self.connect_timeout {
            builder = builder.connect_timeout(limit);
        }
        if let Some(jar) = &self.jar {
            builder = builder.cookie_provider(jar.clone());
        }
        builder.build()
    }
}

impl HttpClient {
    fn build(spec: ClientSpec) -> Result<Self> {
        assay_sdk::tls::install_ring();
        assay_sdk::tls::check_ssl_cert_file()?;
        let connect_timeout = spec.connect_timeout.resolve(DEFAULT_CONNECT_TIMEOUT);
        let roots = match &spec.ca_cert {
            Some(source) => certs::ca_certs(source)?,
            None => Vec::new(),
        };
        let identity = certs::identity(spec.client_cert.as_deref(), spec.client_key.as_deref())?;
        let mut headers = spec.headers.clone();
        if !headers.contains_key(USER_AGENT) {
            headers.insert(
                USER_AGENT,
                reqwest::header::HeaderValue::from_static(concat!(
                    "assay/",
                    env!("CARGO_PKG_VERSION")
                )),
            );
        }
        let recipe = Recipe {
            headers,
            max_redirects: spec.max_redirects,
            insecure: spec.insecure,
            roots,
            identity,
            proxy: spec.proxy.clone(),
            connect_timeout,
            jar: spec.cookies.then(|| Arc::new(jar::BoundedJar::default())),
        };
        // The platform verifier refuses to start on a system with no root certificates at all;
        // such a system can still reach servers whose CA is in ca_cert (and plain http).
        let inner = match recipe.make(false) {
            Ok(client) => client,
            Err(first) => recipe
                .make(true)
                .map_err(|_| Error::new(errors::build_reason(&first)))?,
        };
        Ok(Self {
            inner,
            recipe,
            has_content_type: spec.headers.contains_key(CONTENT_TYPE),
            base_url: spec.base_url,
            timeout: spec.timeout,
            connect_timeout,
            max_body: spec.max_body,
            max_redirects: spec.max_redirects,
        })
    }

    /// The reqwest client for a call.
    fn reqwest(&self) -> Result<&reqwest::Client> {
        Ok(&self.inner)
    }
}

impl ObjectType for HttpClient {
    const TYPE_NAME: &'static str = "http.Client";

    fn methods(m: &mut Methods<Self>) {
        for (name, verb) in Verb::ALL {
            m.async_method(name, move |this: Arc<HttpClient>, args: Args| {
                let call = Call::read(verb, &args);
                async move { call?.send(&this).await }
            });
        }
    }

    fn field(&self, name: &str) -> Option<Value> {
        match name {
            "base_url" => self.base_url.as_ref().map(|u| Value::from(u.as_str())),
            _ => None,
        }
    }

    fn describe(&self) -> String {
        match &self.base_url {
            Some(base) => format!("http.Client: {base}"),
            None => "http.Client".to_owned(),
        }
    }
}
