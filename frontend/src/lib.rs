//! The browser side: hydrates the islands of the server-rendered page.

/// Called by the page's script once the main module is loaded, before it hydrates the page's
/// islands one by one (each from its own chunk, see `app/src/lib.rs`). The last island to
/// hydrate marks `<body data-hydrated="true">` (`app::components::island_hydrated`): the page
/// now answers clicks, and the end-to-end tests wait for the mark before they click. A page
/// without islands has nothing to wait for.
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_islands();
    app::components::mark_hydrated_if_no_islands();
}
