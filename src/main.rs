#[tokio::main]
async fn main() -> std::process::ExitCode {
    condivisa::cli::run().await
}
