use voicy::config::{Role, Settings};

/// `voicy [serve|web|worker]`: see `Role`. `voicy openapi` prints the REST API's OpenAPI
/// document (to generate clients without a running server).
#[tokio::main]
async fn main() {
    if std::env::args().nth(1).as_deref() == Some("openapi") {
        println!("{}", voicy::api::openapi().to_pretty_json().expect("the document serializes"));
        return;
    }
    voicy::init_tracing();
    let role = match Role::parse(std::env::args().nth(1).as_deref()) {
        Ok(role) => role,
        Err(e) => {
            eprintln!("voicy: {e}");
            std::process::exit(2);
        }
    };
    let settings = match Settings::from_env() {
        Ok(settings) => Settings { role, ..settings },
        Err(e) => {
            eprintln!("voicy: {e}");
            std::process::exit(2);
        }
    };
    if let Err(e) = voicy::run(settings).await {
        tracing::error!("voicy stopped: {e}");
        eprintln!("voicy: {e}");
        std::process::exit(1);
    }
}
