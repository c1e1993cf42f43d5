//! The command line, parsed with `lexopt`: a few dozen instructions instead of a parser
//! framework, because every start of `assay` pays for it (see `bench/`).

use std::ffi::OsString;

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

/// The subcommands (a script named like one runs as `./plugins`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// `assay plugins [--json]`
    Plugins { json: bool },
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

pub const HELP: &str = "\
Assay: a Lua 5.5 runtime for platform automation.

Usage: assay [OPTIONS] [SCRIPT [ARGS...]]
       assay plugins [--json]    List the plugins on the lib path: version, provides, and
                                 whether they can be used (or why not)
       assay help                Print this help

Runs SCRIPT with ARGS (in the global `arg`, and as `...`), or CODE given with -e, or a script
read from standard input (SCRIPT `-`, or no SCRIPT when input is not a terminal); with no
arguments on a terminal it starts an interactive prompt. Everything after SCRIPT belongs to the
script, flags included. As with `lua`, arg[0] is SCRIPT (`-` for standard input), arg[1]... its
ARGS, and arg[-1], arg[-2]... the options before it; without SCRIPT, arg[0] is `assay`.

Options:
  -e CODE                Run CODE (before SCRIPT, if one is given; may repeat)
      --sandbox          Only the sandboxed globals (no files, processes, C modules or debug)
      --memory-limit SIZE
                         Memory the VM may use: 128M (default), 512K, 1G; 0 for no limit
      --timeout SECONDS  End the run after SECONDS (like 30 or 0.5), waiting or computing;
                         0 for none (default: none; 60 with --sandbox)
      --lib-path PATHS   Package roots, `:`-separated (default: $ASSAY_LIB_PATH, then the
                         standard roots)
  -v, --verbose          Log debug lines too (overrides ASSAY_LOG)
  -q, --quiet            Log errors only (overrides ASSAY_LOG)
  -V, --version          Print the core and Lua versions
  -h, --help             Print this help

Exit codes: 0 success, 1 script error, 2 usage or configuration error.
";

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
            Value(word) if word == "plugins" && options.execute.is_empty() => {
                let mut json = false;
                while let Some(arg) = parser.next().map_err(|e| e.to_string())? {
                    match arg {
                        Long("json") => json = true,
                        Long("lib-path") => {
                            options.lib_path = Some(text(
                                parser.value().map_err(|e| e.to_string())?,
                                "--lib-path",
                            )?);
                        }
                        other => return Err(format!("plugins: {}", other.unexpected())),
                    }
                }
                options.command = Some(Command::Plugins { json });
            }
            Value(word) if word == "help" && options.execute.is_empty() => {
                if let Some(extra) = parser.next().map_err(|e| e.to_string())? {
                    return Err(format!("help: {}", extra.unexpected()));
                }
                options.help = true;
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
    fn plugins_subcommand() {
        let o = parse_strs(&["plugins", "--json"]).expect("valid");
        assert_eq!(o.command, Some(Command::Plugins { json: true }));
        assert!(o.script.is_empty());
        assert_eq!(
            parse_strs(&["./plugins"]).expect("valid").script,
            ["./plugins"]
        );
        assert!(
            parse_strs(&["plugins", "--bogus"])
                .expect_err("unknown")
                .contains("--bogus")
        );
    }

    #[test]
    fn help_subcommand() {
        assert!(parse_strs(&["help"]).expect("valid").help);
        assert!(parse_strs(&["-v", "help"]).expect("valid").help);
        assert!(
            parse_strs(&["help", "x"])
                .expect_err("extra")
                .contains("help:")
        );
        // A script of that name still runs as a path.
        assert_eq!(parse_strs(&["./help"]).expect("valid").script, ["./help"]);
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
