use voicy::config::Settings;

#[tokio::main]
async fn main() {
    voicy::init_tracing();
    let settings = match Settings::from_env() {
        Ok(settings) => settings,
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
