//! The command line (everything but `exec` and `install`, which `main` hands to
//! [`crate::exec`] before clap runs, so that the wrapper stays small and fast).

use std::io::Write;

use clap::{CommandFactory, Parser, Subcommand, ValueEnum};

use crate::manifest::{self, Format};
use crate::render::RenderOptions;

/// Make Dapr-enabled Kubernetes Jobs and CronJobs complete.
#[derive(Debug, Parser)]
#[command(name = "daprjob", version, about, long_about = None)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Expand DaprJobs into batch/v1 Jobs and CronJobs; pass every other document through.
    Render(RenderArgs),
    /// Check DaprJobs without printing them (warnings and errors on stderr).
    Validate(InputArgs),
    /// Print the DaprJob CustomResourceDefinition.
    Crd,
    /// Print the JSON schema of a DaprJob, for editors (yaml-language-server).
    Schema,
    /// Print shell completions.
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// Run a command as a Dapr job: wait for the sidecar, run, shut the sidecar down
    /// (the in-pod wrapper; see `daprjob exec --help`).
    #[command(disable_help_flag = true)]
    Exec {
        /// Flags and `-- CMD ARGS...`.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// Copy this binary into a directory (the init container of binary mode).
    Install {
        /// Target directory or file.
        dest: String,
    },
}

/// Where the manifests come from.
#[derive(Debug, clap::Args)]
pub struct InputArgs {
    /// A file, a directory, or - for stdin; repeatable. Default: stdin, unless it is a
    /// terminal.
    #[arg(short = 'f', long = "filename", value_name = "PATH")]
    pub files: Vec<String>,
    /// Read directories recursively.
    #[arg(short = 'R', long)]
    pub recursive: bool,
    /// Image of the binary-mode init container, for DaprJobs that set no wrapper.image.
    #[arg(long, value_name = "IMAGE", env = "DAPRJOB_WRAPPER_IMAGE")]
    pub wrapper_image: Option<String>,
}

/// Arguments of `render`.
#[derive(Debug, clap::Args)]
pub struct RenderArgs {
    /// Input.
    #[command(flatten)]
    pub input: InputArgs,
    /// Output format: yaml (documents separated by ---) or json (one v1 List).
    #[arg(short = 'o', long, value_enum, default_value_t = OutputFormat::Yaml)]
    pub output: OutputFormat,
}

/// Output format flag.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum OutputFormat {
    /// Multi-document YAML.
    Yaml,
    /// One v1 List.
    Json,
}

fn expand(input: &InputArgs) -> Result<manifest::Expansion, manifest::Error> {
    let stdin = ["-".to_string()];
    let files = if input.files.is_empty() {
        use std::io::IsTerminal;
        if std::io::stdin().is_terminal() {
            return Err(manifest::InputError::NoInput.into());
        }
        &stdin[..]
    } else {
        &input.files[..]
    };
    let sources = manifest::read_paths(files, input.recursive)?;
    let mut documents = Vec::new();
    for source in &sources {
        documents.extend(manifest::split_documents(source)?);
    }
    let options = RenderOptions {
        wrapper_image: input.wrapper_image.clone(),
    };
    manifest::expand(documents, &options)
}

fn fail(error: &manifest::Error) -> i32 {
    for line in manifest::error_lines(error) {
        eprintln!("{line}");
    }
    1
}

fn print(text: &str) -> i32 {
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Ok(()) => 0,
        // A closed pipe (`| head`) is not worth a panic.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => 0,
        Err(e) => {
            eprintln!("daprjob: error: writing stdout: {e}");
            1
        }
    }
}

/// Run a parsed command line; returns the process exit code.
pub fn run(cli: Cli) -> i32 {
    match cli.command {
        Command::Render(args) => {
            let expansion = match expand(&args.input) {
                Ok(expansion) => expansion,
                Err(e) => return fail(&e),
            };
            for warning in &expansion.warnings {
                eprintln!("{}", manifest::warning_line(warning));
            }
            let format = match args.output {
                OutputFormat::Yaml => Format::Yaml,
                OutputFormat::Json => Format::Json,
            };
            match manifest::write_output(&expansion.items, format) {
                Ok(text) => print(&text),
                Err(e) => fail(&e),
            }
        }
        Command::Validate(input) => match expand(&input) {
            Ok(expansion) => {
                for warning in &expansion.warnings {
                    eprintln!("{}", manifest::warning_line(warning));
                }
                0
            }
            Err(e) => fail(&e),
        },
        Command::Crd => print(&crate::crd::crd_yaml()),
        Command::Schema => print(&crate::crd::json_schema()),
        Command::Completions { shell } => {
            let mut out = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "daprjob", &mut out);
            print(&String::from_utf8_lossy(&out))
        }
        // `main` dispatches these before parsing; reaching here means a bug in main.
        Command::Exec { .. } | Command::Install { .. } => {
            eprintln!("daprjob: error: exec and install are dispatched before the CLI");
            crate::wrapper::contract::EXIT_CONFIG
        }
    }
}
