//! The `imgtag` binary: parses arguments, sets up logging, runs a command and
//! turns its outcome into an exit status (0 success, 1 some input failed,
//! 2 configuration or installation error).

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;
use imgtag_workers::cli::{Cli, Command};
use imgtag_workers::commands::{classify, convert, index, inspect, tag};
use imgtag_workers::{AppError, Config};

fn main() -> ExitCode {
    init_logging();
    let cli = Cli::parse();
    match run(&cli) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error[{}]: {error}", error.code());
            ExitCode::from(2)
        }
    }
}

fn run(cli: &Cli) -> Result<ExitCode, AppError> {
    let config = Config::load(cli.config.as_deref())?;
    Ok(match &cli.command {
        Command::Tag(args) => {
            let output = tag::run(&config, args)?;
            print(args.json, &output, output.all_succeeded(), |out| {
                tag::write_text(&output, out)
            })
        }
        Command::Classify(args) => {
            let output = classify::run(&config, args)?;
            print(args.json, &output, output.all_succeeded(), |out| {
                classify::write_table(&output, out)
            })
        }
        Command::Inspect(args) => {
            let reports = inspect::run(&config, args);
            let all_succeeded = reports.iter().all(|r| r.error.is_none());
            print(args.json, &reports, all_succeeded, |out| {
                inspect::write_text(&reports, out)
            })
        }
        Command::Index(args) => {
            let output = index::run(&config, args)?;
            print(args.json, &output, true, |out| {
                index::write_text(&output, out)
            })
        }
        Command::Convert(args) => match convert::run(&config, args) {
            Ok(written) => {
                println!(
                    "wrote {} ({} {}x{}, {} bytes)",
                    args.output.display(),
                    written.format.extension(),
                    written.width,
                    written.height,
                    written.bytes
                );
                ExitCode::SUCCESS
            }
            // The input or output is at fault, not the installation.
            Err(error) => {
                eprintln!("error[{}]: {error}", error.code());
                ExitCode::from(1)
            }
        },
    })
}

/// Prints a command's output as JSON or text and gives the exit status:
/// 0 when every input succeeded, 1 otherwise (or when stdout failed).
fn print<T: serde::Serialize>(
    json: bool,
    value: &T,
    all_succeeded: bool,
    text: impl FnOnce(&mut std::io::StdoutLock<'static>) -> std::io::Result<()>,
) -> ExitCode {
    let mut stdout = std::io::stdout().lock();
    let written = if json {
        serde_json::to_writer_pretty(&mut stdout, value)
            .map_err(std::io::Error::from)
            .and_then(|()| writeln!(stdout))
    } else {
        text(&mut stdout)
    };
    if let Err(error) = written {
        // A closed pipe (`imgtag ... | head`) is not a failure.
        if error.kind() != std::io::ErrorKind::BrokenPipe {
            eprintln!("error[output.write]: {error}");
            return ExitCode::from(1);
        }
    }
    if all_succeeded {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

/// Logs go to stderr; `IMGTAG_LOG` sets the filter (default `warn`).
fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("IMGTAG_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}
