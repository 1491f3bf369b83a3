//! A party's routes, recorded as they are built: the end-to-end OpenAPI test reads the list and
//! fails on an API route the party serves but its document does not describe. HTML pages are
//! recorded apart and documented from the list itself.
//!
//! ```
//! use simulators::http::Routes;
//! let served = Routes::new()
//!     .get("/ping", || async { "ok" })
//!     .post("/token", || async { "{}" })
//!     .with_state(());
//! assert_eq!(served.routes, vec![("get", "/ping".to_string()), ("post", "/token".to_string())]);
//! ```

use axum::Router;
use axum::handler::Handler;
use axum::routing::{MethodRouter, get, post};

/// A route: its method (`get`, `post`…, as OpenAPI writes them) and its path pattern.
pub type Route = (&'static str, String);

/// Routes being built, with the list of what they serve.
pub struct Routes<S = ()> {
    router: Router<S>,
    routes: Vec<Route>,
    pages: Vec<Route>,
}

/// The built router and what it serves.
pub struct Served {
    /// The router, state given.
    pub router: Router,
    /// Every API route it serves, in the order they were added.
    pub routes: Vec<Route>,
    /// The HTML pages it serves (a browser's, not a client's): documented from this list.
    pub pages: Vec<Route>,
}

impl<S: Clone + Send + Sync + 'static> Default for Routes<S> {
    fn default() -> Self {
        Routes {
            router: Router::new(),
            routes: Vec::new(),
            pages: Vec::new(),
        }
    }
}

impl<S: Clone + Send + Sync + 'static> Routes<S> {
    /// No routes yet.
    pub fn new() -> Self {
        Self::default()
    }

    fn add(mut self, method: &'static str, path: &str, m: MethodRouter<S>) -> Self {
        self.routes.push((method, path.to_string()));
        // axum merges method routers given for the same path.
        self.router = self.router.route(path, m);
        self
    }

    /// `GET path`.
    pub fn get<H: Handler<T, S>, T: 'static>(self, path: &str, h: H) -> Self {
        self.add("get", path, get(h))
    }

    /// `POST path`.
    pub fn post<H: Handler<T, S>, T: 'static>(self, path: &str, h: H) -> Self {
        self.add("post", path, post(h))
    }

    /// `GET path`, an HTML page.
    pub fn page_get<H: Handler<T, S>, T: 'static>(mut self, path: &str, h: H) -> Self {
        self.pages.push(("get", path.to_string()));
        self.router = self.router.route(path, get(h));
        self
    }

    /// `POST path`, a form an HTML page sends.
    pub fn page_post<H: Handler<T, S>, T: 'static>(mut self, path: &str, h: H) -> Self {
        self.pages.push(("post", path.to_string()));
        self.router = self.router.route(path, post(h));
        self
    }

    /// What answers a path no route serves.
    pub fn fallback<H: Handler<T, S>, T: 'static>(mut self, h: H) -> Self {
        self.router = self.router.fallback(h);
        self
    }

    /// What answers a served path with a method it does not serve.
    pub fn method_not_allowed_fallback<H: Handler<T, S>, T: 'static>(mut self, h: H) -> Self {
        self.router = self.router.method_not_allowed_fallback(h);
        self
    }

    /// Wraps every route in a middleware layer (a defect's, a party's own error format).
    pub fn layer<L>(mut self, layer: L) -> Self
    where
        L: tower_layer::Layer<axum::routing::Route> + Clone + Send + Sync + 'static,
        L::Service: tower_service::Service<axum::extract::Request> + Clone + Send + Sync + 'static,
        <L::Service as tower_service::Service<axum::extract::Request>>::Response:
            axum::response::IntoResponse + 'static,
        <L::Service as tower_service::Service<axum::extract::Request>>::Error:
            Into<std::convert::Infallible> + 'static,
        <L::Service as tower_service::Service<axum::extract::Request>>::Future: Send + 'static,
    {
        self.router = self.router.layer(layer);
        self
    }

    /// The routes with their state.
    pub fn with_state(self, state: S) -> Served {
        Served {
            router: self.router.with_state(state),
            routes: self.routes,
            pages: self.pages,
        }
    }
}

/// The OpenAPI operations of HTML pages, from the route list: tagged `pages`, answering HTML
/// (or a redirect), their path parameters named.
pub(super) fn page_operations(pages: &[Route]) -> serde_json::Map<String, serde_json::Value> {
    use serde_json::{Value, json};
    let mut paths = serde_json::Map::new();
    for (method, path) in pages {
        let params: Vec<Value> = path
            .split('/')
            .filter_map(|seg| seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
            .map(|name| json!({"name": name, "in": "path", "required": true, "schema": {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,64}$"}}))
            .collect();
        let html = json!({"text/html": {"schema": {"type": "string"}}});
        let op = json!({
            "tags": ["pages"],
            "summary": "An HTML page (for a browser)",
            "parameters": params,
            "responses": {
                "200": {"description": "The page", "content": html},
                "303": {"description": "On to the next page"},
                "400": {"description": "An error page", "content": html},
                "404": {"description": "Not found", "content": html},
            },
        });
        let item = paths.entry(path.clone()).or_insert_with(|| json!({}));
        item[*method] = op;
    }
    paths
}
