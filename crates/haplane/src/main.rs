//! The `haplane` binary: command line, logging, and the API server.

mod cli;
mod demo;
mod parse;
mod serve;

use clap::Parser;

use crate::cli::{Cli, Command};

fn init_logging(level: &str, to_file: Option<&std::path::Path>) -> anyhow::Result<()> {
    let level = if level == "warning" { "warn" } else { level };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false);
    match to_file {
        Some(path) => {
            let file = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .map_err(|e| anyhow::anyhow!("--log-file {}: {e}", path.display()))?;
            builder
                .with_ansi(false)
                .with_writer(std::sync::Mutex::new(file))
                .init();
        }
        None => builder.init(),
    }
    Ok(())
}

fn main() {
    if let Err(e) = run() {
        eprintln!("haplane: {e:#}");
        std::process::exit(1);
    }
}

fn run() -> anyhow::Result<()> {
    let cli = Cli::parse();
    if cli.version {
        println!("haplane {}", env!("CARGO_PKG_VERSION"));
        return Ok(());
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    match &cli.command {
        Some(Command::Parse { file }) => {
            let bytes =
                std::fs::read(file).map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
            parse::show(bytes);
            Ok(())
        }
        Some(Command::Demo { port }) => {
            init_logging("info", None)?;
            runtime.block_on(demo::run(*port))
        }
        None => {
            let options = cli.options()?;
            let file = (options.log_to == "file")
                .then_some(options.log_file.as_deref())
                .flatten();
            init_logging(&options.log_level, file)?;
            runtime.block_on(serve::serve(options))
        }
    }
}
