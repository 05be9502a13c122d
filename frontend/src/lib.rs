//! The browser side: hydrates the server-rendered dashboard.

/// Hydrates the page, fetching the code of the page shown first (each page's code is a chunk
/// of its own, see `app/src/routes.rs`), then marks `<body data-hydrated="true">`: the page now
/// answers clicks (the end-to-end tests wait for the mark before they click). From then on, a
/// link to another page fetches that page's code when pointed at or focused.
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    use leptos::prelude::document;
    console_error_panic_hook::set_once();
    _ = any_spawner::Executor::init_wasm_bindgen();
    leptos::task::spawn_local(async {
        let Some(body) = document().body() else { return };
        if !app::routes::page_code_ready().await {
            return;
        }
        let app = leptos::mount::hydrate_from_async(body.clone(), app::App).await;
        let _ = body.set_attribute("data-hydrated", "true");
        app.forget();
        app::routes::fetch_page_code_on_intent();
    });
}
