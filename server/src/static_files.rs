//! The demo page and the wasm package, served from the same origin as the
//! coordinator so a fresh checkout runs with one command.

use std::path::Path;

use axum::Router;
use tower_http::services::ServeDir;

/// `/` → `www`, `/pkg/` → `pkg`. Missing folders are served as 404s, not
/// errors: the SDK may not be built yet.
pub fn routes(router: Router, www: Option<&Path>, pkg: Option<&Path>) -> Router {
    let mut router = router;
    if let Some(pkg) = pkg {
        router = router.nest_service("/pkg", ServeDir::new(pkg));
    }
    if let Some(www) = www {
        router = router.fallback_service(ServeDir::new(www));
    }
    router
}
