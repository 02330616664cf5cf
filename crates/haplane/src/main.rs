//! The `haplane` binary: command line, logging, and the API server.

mod cli;
mod demo;
mod parse;
mod serve;

use clap::Parser;

use crate::cli::{Cli, Command};

/// Reading and rendering thousands of lines makes and frees many small
/// objects, on several threads: an allocator made for that.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Logs to stdout (colours only on a terminal) or to a file, as text or
/// JSON lines.
fn init_logging(level: &str, to_file: Option<&std::path::Path>, json: bool) -> anyhow::Result<()> {
    use std::io::IsTerminal;
    let level = if level == "warning" { "warn" } else { level };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false);
    let writer: tracing_subscriber::fmt::writer::BoxMakeWriter = match to_file {
        Some(path) => {
            let file = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .map_err(|e| anyhow::anyhow!("--log-file {}: {e}", path.display()))?;
            tracing_subscriber::fmt::writer::BoxMakeWriter::new(std::sync::Mutex::new(file))
        }
        None => tracing_subscriber::fmt::writer::BoxMakeWriter::new(std::io::stdout),
    };
    let ansi = to_file.is_none() && std::io::stdout().is_terminal();
    let builder = builder.with_writer(writer).with_ansi(ansi);
    match json {
        true => builder.json().init(),
        false => builder.init(),
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
            init_logging("info", None, false)?;
            runtime.block_on(demo::run(*port))
        }
        None => {
            let options = cli.options()?;
            init_logging(
                &options.log_level,
                options.log_file.as_deref(),
                options.log_json,
            )?;
            let result = runtime.block_on(serve::serve(options));
            // A validation or reload still running in a blocking task
            // does not hold the exit.
            runtime.shutdown_timeout(std::time::Duration::from_millis(100));
            result
        }
    }
}
