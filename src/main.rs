use voicy::config::{Role, Settings};

/// `voicy [serve|web|worker]`: see `Role`. `voicy openapi` prints the REST API's OpenAPI
/// document (to generate clients without a running server).
#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let Some(extra) = args.get(1) {
        fail(
            2,
            &format!(
                "unexpected argument {extra:?}: the only argument is the command (serve, web, worker or openapi)"
            ),
        );
    }
    if args.first().map(String::as_str) == Some("openapi") {
        println!("{}", voicy::api::openapi().to_pretty_json().expect("the document serializes"));
        return;
    }
    voicy::init_tracing();
    let role = Role::parse(args.first().map(String::as_str)).unwrap_or_else(|e| fail(2, &e));
    let settings = match Settings::from_env() {
        Ok(settings) => Settings { role, ..settings },
        Err(e) => fail(2, &e.to_string()),
    };
    // A start that fails says why once, here; nothing was served.
    if let Err(e) = voicy::run(settings).await {
        fail(1, &e.to_string());
    }
}

fn fail(code: i32, why: &str) -> ! {
    eprintln!("voicy: {why}");
    std::process::exit(code);
}
