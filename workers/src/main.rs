//! The `imgtag` binary: parses arguments, sets up logging, runs a command and
//! turns its outcome into an exit status (0 success, 1 some input failed,
//! 2 configuration or installation error).

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;
use imgtag_workers::api::discovery::locked_hint;
use imgtag_workers::cli::{Cli, Command};
use imgtag_workers::commands::{
    api_key, classify, convert, dlq, duplicates, erase, expiring, index, ingest, inspect, ocr,
    publish, reminders, reprocess, search, serve, stats, tag, worker,
};
use imgtag_workers::telemetry;
use imgtag_workers::{AppError, Config};

/// mimalloc rather than glibc's malloc for Rust's allocations: image
/// buffers of several MiB come and go on many threads, and glibc keeps them
/// in per-thread arenas (BENCHMARKS.md measures the difference).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(&cli) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error[{}]: {error}", error.code());
            if let Some(hint) = locked_hint(&error) {
                eprintln!("hint: {hint}");
            }
            ExitCode::from(2)
        }
    }
}

fn run(cli: &Cli) -> Result<ExitCode, AppError> {
    let config = Config::load(cli.config.as_deref())?;
    let default_filter = match cli.command {
        Command::Worker(_) | Command::Serve(_) => "info",
        _ => "warn",
    };
    telemetry::init_logging(config.logging.format, default_filter);
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
        Command::Ocr(args) => {
            let output = ocr::run(&config, args)?;
            print(args.json, &output.images, output.all_succeeded(), |out| {
                ocr::write_text(&output, out)
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
        Command::Ingest(args) => {
            let output = ingest::run(&config, args)?;
            if args.json {
                let _ = ingest::write_summary(&output, &mut std::io::stderr().lock());
                if output.all_succeeded() {
                    ExitCode::SUCCESS
                } else {
                    ExitCode::from(1)
                }
            } else {
                print(false, &output, output.all_succeeded(), |out| {
                    ingest::write_text(&output, out)
                })
            }
        }
        Command::Search(args) => {
            let output = search::run(&config, args)?;
            print(args.json, &output, true, |out| {
                search::write_table(&output, out)
            })
        }
        Command::Duplicates(args) => {
            let output = duplicates::run(&config, args)?;
            print(args.json, &output, true, |out| {
                duplicates::write_text(&output, out)
            })
        }
        Command::Stats(args) => {
            let output = stats::run(&config, args)?;
            print(args.json, &output, true, |out| {
                stats::write_text(&output, out)
            })
        }
        Command::Expiring(args) => {
            let output = expiring::run(&config, args)?;
            print(args.json, &output, true, |out| {
                expiring::write_table(&output, out)
            })
        }
        Command::Erase(args) => {
            let output = erase::run(&config, args)?;
            print(args.json, &output, true, |out| {
                erase::write_text(&output, out)
            })
        }
        Command::Reminders(args) => {
            let report = reminders::run(&config, args)?;
            print(args.json, &report, true, |out| {
                reminders::write_text(&report, out)
            })
        }
        Command::Worker(args) => {
            worker::run(&config, args)?;
            ExitCode::SUCCESS
        }
        Command::Serve(args) => {
            serve::run(&config, args)?;
            ExitCode::SUCCESS
        }
        Command::ApiKey(args) => {
            let output = api_key::run(args)?;
            print(args.json, &output, true, |out| {
                api_key::write_text(&output, out)
            })
        }
        Command::Publish(args) => {
            let output = publish::run(&config, args)?;
            eprintln!(
                "published {} jobs in {:.2} s ({:.0} jobs/s, confirmed); {} files skipped",
                output.job_ids.len(),
                output.seconds,
                output.jobs_per_second(),
                output.skipped.len()
            );
            if output.skipped.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            }
        }
        Command::Reprocess(args) => {
            let output = reprocess::run(&config, args)?;
            print(args.json, &output, output.state.failed == 0, |out| {
                reprocess::write_text(&output, out)
            })
        }
        Command::Dlq(args) => {
            let output = dlq::run(&config, args)?;
            print(args.json, &output, true, |out| {
                dlq::write_text(args, &output, out)
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
