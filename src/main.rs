use clap::Parser;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = jemput::cli::Cli::parse();
    match jemput::cli::run(cli).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("galat (error): {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
