//! The command line, parsed with `lexopt`: a few dozen instructions instead of a parser
//! framework, because every start of `assay` pays for it (see `bench/`).

use std::ffi::OsString;
use std::fmt::Write as _;

use super::spec::{self, Matches, Subcommand};

/// Everything the command line says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// `-e CODE`, each in order (before SCRIPT, if one is given), as `lua` runs them.
    pub execute: Vec<String>,
    pub sandbox: bool,
    pub memory_limit: String,
    /// `--timeout SECONDS`, as given.
    pub timeout: Option<String>,
    pub lib_path: Option<String>,
    pub verbose: bool,
    pub quiet: bool,
    pub version: bool,
    pub help: bool,
    /// The script (`-` for standard input) and its arguments, verbatim.
    pub script: Vec<String>,
    /// A subcommand instead of a script.
    pub command: Option<Command>,
}

/// A subcommand instead of a script (a script named like one runs as `./plugins`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Command {
    pub sub: &'static Subcommand,
    pub matches: Matches,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            execute: Vec::new(),
            sandbox: false,
            memory_limit: "128M".to_owned(),
            timeout: None,
            lib_path: None,
            verbose: false,
            quiet: false,
            version: false,
            help: false,
            script: Vec::new(),
            command: None,
        }
    }
}

/// The help of a plain run, with the list of subcommands.
pub fn help() -> String {
    let mut out = String::from(
        "Assay: a Lua 5.5 runtime for platform automation.\n\n\
         Usage: assay [OPTIONS] [SCRIPT [ARGS...]]\n",
    );
    for sub in spec::SUBCOMMANDS {
        let usage = spec::usage(sub);
        let _ = writeln!(out, "       {usage:<33} {}", sub.summary);
    }
    out.push_str(
        "\n\
Runs SCRIPT with ARGS (in the global `arg`, and as `...`), or CODE given with -e, or a script
read from standard input (SCRIPT `-`, or no SCRIPT when input is not a terminal); with no
arguments on a terminal it starts an interactive prompt. Everything after SCRIPT belongs to the
script, flags included. As with `lua`, arg[0] is SCRIPT (`-` for standard input), arg[1]... its
ARGS, and arg[-1], arg[-2]... the options before it; without SCRIPT, arg[0] is `assay`. A SCRIPT
ending in .yaml or .yml is a check file: `assay checks.yaml ...` is `assay check checks.yaml ...`.
`assay SUBCOMMAND --help` prints a subcommand's own options.

Options:
",
    );
    spec::write_flags(&mut out, spec::RUN_FLAGS);
    out.push_str("\nExit codes: 0 success, 1 script error, 2 usage or configuration error.\n");
    out
}

/// The subcommand a word names, if any.
fn subcommand(word: &std::ffi::OsStr) -> Option<&'static Subcommand> {
    word.to_str().and_then(spec::find)
}

/// A path that names a YAML file: run as a check file.
fn is_check_file(word: &std::ffi::OsStr) -> bool {
    let path = std::path::Path::new(word);
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("yaml") || e.eq_ignore_ascii_case("yml"))
}

fn text(value: OsString, what: &str) -> Result<String, String> {
    value
        .into_string()
        .map_err(|v| format!("{what} is not valid UTF-8: {}", v.to_string_lossy()))
}

/// Parses `args` (without the program name).
pub fn parse(args: impl IntoIterator<Item = OsString>) -> Result<Options, String> {
    use lexopt::prelude::*;
    let mut options = Options::default();
    let mut parser = lexopt::Parser::from_args(args);
    while let Some(arg) = parser.next().map_err(|e| e.to_string())? {
        match arg {
            Short('e') => {
                let code = text(parser.value().map_err(|e| e.to_string())?, "-e")?;
                options.execute.push(code);
            }
            Long("sandbox") => options.sandbox = true,
            Long("memory-limit") => {
                options.memory_limit =
                    text(parser.value().map_err(|e| e.to_string())?, "--memory-limit")?;
            }
            Long("timeout") => {
                options.timeout = Some(text(
                    parser.value().map_err(|e| e.to_string())?,
                    "--timeout",
                )?);
            }
            Long("lib-path") => {
                options.lib_path = Some(text(
                    parser.value().map_err(|e| e.to_string())?,
                    "--lib-path",
                )?);
            }
            Short('v') | Long("verbose") => options.verbose = true,
            Short('q') | Long("quiet") => options.quiet = true,
            Short('V') | Long("version") => options.version = true,
            Short('h') | Long("help") => options.help = true,
            Value(word) if options.execute.is_empty() && subcommand(&word).is_some() => {
                let sub = subcommand(&word).unwrap_or(&spec::HELP);
                let matches = spec::parse(sub, &mut parser)?;
                options.command = Some(Command { sub, matches });
            }
            Value(script) if options.execute.is_empty() && is_check_file(&script) => {
                // `assay checks.yaml [check options]` is `assay check checks.yaml ...`.
                let file = text(script, "the check file path")?;
                let matches = spec::parse_after(&spec::CHECK, vec![file], &mut parser)?;
                options.command = Some(Command {
                    sub: &spec::CHECK,
                    matches,
                });
            }
            Value(script) => {
                options.script.push(text(script, "the script path")?);
                for rest in parser.raw_args().map_err(|e| e.to_string())? {
                    options.script.push(text(rest, "a script argument")?);
                }
            }
            other => return Err(other.unexpected().to_string()),
        }
    }
    if options.verbose && options.quiet {
        return Err("-v/--verbose and -q/--quiet cannot be used together".to_owned());
    }
    Ok(options)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_strs(args: &[&str]) -> Result<Options, String> {
        parse(args.iter().map(OsString::from))
    }

    #[test]
    fn flags_then_script_and_its_arguments() {
        let o = parse_strs(&[
            "--sandbox",
            "--memory-limit=8M",
            "-v",
            "s.lua",
            "-e",
            "--sandbox",
            "x",
        ])
        .expect("valid");
        assert!(o.sandbox && o.verbose);
        assert_eq!(o.memory_limit, "8M");
        assert!(o.execute.is_empty());
        assert_eq!(o.script, ["s.lua", "-e", "--sandbox", "x"]);
    }

    #[test]
    fn values_in_both_spellings() {
        let o = parse_strs(&[
            "-e",
            "print(1)",
            "--lib-path",
            "/a:/b",
            "--memory-limit",
            "0",
        ])
        .expect("valid");
        assert_eq!(o.execute, ["print(1)"]);
        assert_eq!(o.lib_path.as_deref(), Some("/a:/b"));
        assert_eq!(o.memory_limit, "0");
        assert_eq!(
            parse_strs(&["-eprint(2)", "-e", "x = 1"])
                .expect("valid")
                .execute,
            ["print(2)", "x = 1"]
        );
    }

    #[test]
    fn stdin_and_double_dash() {
        assert_eq!(parse_strs(&["-", "a"]).expect("valid").script, ["-", "a"]);
        assert_eq!(
            parse_strs(&["--", "-weird.lua"]).expect("valid").script,
            ["-weird.lua"]
        );
    }

    #[test]
    fn subcommands() {
        let o = parse_strs(&["plugins", "--json"]).expect("valid");
        let command = o.command.expect("a subcommand");
        assert_eq!(command.sub.name, "plugins");
        assert!(command.matches.has("json"));
        assert!(o.script.is_empty());
        assert_eq!(
            parse_strs(&["./plugins"]).expect("valid").script,
            ["./plugins"]
        );
        assert!(
            parse_strs(&["plugins", "--bogus"])
                .expect_err("unknown")
                .starts_with("plugins: ")
        );
        let help = parse_strs(&["-v", "help", "check"]).expect("valid");
        let command = help.command.expect("help");
        assert_eq!(command.sub.name, "help");
        assert_eq!(command.matches.positionals, ["check"]);
        // A script of that name still runs as a path.
        assert_eq!(parse_strs(&["./help"]).expect("valid").script, ["./help"]);
    }

    #[test]
    fn a_yaml_script_is_a_check_file() {
        assert!(is_check_file("PASS.YAML".as_ref()) && is_check_file("a.Yml".as_ref()));
        let o = parse_strs(&["--lib-path", "/l", "checks.yaml", "--format", "tap"]).expect("valid");
        let command = o.command.expect("check");
        assert_eq!(command.sub.name, "check");
        assert_eq!(command.matches.positionals, ["checks.yaml"]);
        assert_eq!(command.matches.value("format"), Some("tap"));
        assert_eq!(o.lib_path.as_deref(), Some("/l"));
    }

    #[test]
    fn mistakes_are_named() {
        assert!(
            parse_strs(&["--no-such-flag"])
                .expect_err("unknown")
                .contains("--no-such-flag")
        );
        assert!(
            parse_strs(&["-e"])
                .expect_err("missing value")
                .contains("-e")
        );
        assert!(
            parse_strs(&["-v", "-q"])
                .expect_err("conflict")
                .contains("cannot be used together")
        );
    }
}
