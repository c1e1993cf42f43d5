//! What each subcommand accepts, said once: its flags parse, its `--help` and the shell
//! completions (`assay completions`) all come from these tables, so they cannot disagree.

use std::ffi::OsString;

use super::spec_install;
use std::fmt::Write as _;

/// What a shell may offer for a value or a positional argument.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Complete {
    Nothing,
    File,
    Dir,
    /// One of these words.
    Words(&'static [&'static str]),
}

/// One flag: `--long`, maybe `-s`, maybe with a value.
#[derive(Debug)]
pub struct Flag {
    pub long: &'static str,
    pub short: Option<char>,
    /// The value's name in the help (`FILE`), or `None` for a switch.
    pub value: Option<&'static str>,
    /// May be given more than once (each value is kept).
    pub repeats: bool,
    pub help: &'static str,
    pub complete: Complete,
}

/// A subcommand: `assay <name> [flags] <positionals>`.
#[derive(Debug)]
pub struct Subcommand {
    pub name: &'static str,
    /// The positionals in the usage line (`FILE...`), empty for none.
    pub positionals: &'static str,
    /// How many positionals at least, and at most (`None`: any number).
    pub arity: (usize, Option<usize>),
    pub complete: Complete,
    /// One line for the list of subcommands.
    pub summary: &'static str,
    /// The rest of its help, after the usage line.
    pub about: &'static str,
    pub flags: &'static [Flag],
}

/// Subcommands are told apart by name.
impl PartialEq for Subcommand {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}

impl Eq for Subcommand {}

pub(super) const fn switch(long: &'static str, short: Option<char>, help: &'static str) -> Flag {
    Flag {
        long,
        short,
        value: None,
        repeats: false,
        help,
        complete: Complete::Nothing,
    }
}

pub(super) const fn valued(
    long: &'static str,
    value: &'static str,
    help: &'static str,
    complete: Complete,
) -> Flag {
    Flag {
        long,
        short: None,
        value: Some(value),
        repeats: false,
        help,
        complete,
    }
}

pub(super) const fn repeated(
    long: &'static str,
    value: &'static str,
    help: &'static str,
    complete: Complete,
) -> Flag {
    Flag {
        long,
        short: None,
        value: Some(value),
        repeats: true,
        help,
        complete,
    }
}

pub const FORMATS: &[&str] = &["text", "json", "junit", "tap"];
pub const SHELLS: &[&str] = &["bash", "zsh", "fish"];

pub(super) const LIB_PATH: Flag = valued(
    "lib-path",
    "PATHS",
    "Package roots, `:`-separated (default: $ASSAY_LIB_PATH, then the standard roots)",
    Complete::Dir,
);
const MEMORY_LIMIT: Flag = valued(
    "memory-limit",
    "SIZE",
    "Memory a VM may use: 128M (default), 512K, 1G; 0 for no limit",
    Complete::Nothing,
);
const FORMAT: Flag = valued(
    "format",
    "FORMAT",
    "Report as text, json, junit or tap (default: text on a terminal, else json)",
    Complete::Words(FORMATS),
);
const OUTPUT: Flag = valued(
    "output",
    "FILE",
    "Write the report to FILE instead of standard output",
    Complete::File,
);
const PARALLEL: Flag = valued("parallel", "N", "Run up to N at once", Complete::Nothing);
const VERBOSE: Flag = switch("verbose", Some('v'), "Log debug lines too");
const QUIET: Flag = switch("quiet", Some('q'), "Log errors only");
pub(super) const HELP_FLAG: Flag = switch("help", Some('h'), "Print this help");

/// The flags of a plain run (`assay [OPTIONS] SCRIPT`), for its help and the completions;
/// `args::parse` reads them.
pub const RUN_FLAGS: &[Flag] = &[
    Flag {
        long: "",
        short: Some('e'),
        value: Some("CODE"),
        repeats: true,
        help: "Run CODE (before SCRIPT, if one is given; may repeat)",
        complete: Complete::Nothing,
    },
    switch(
        "sandbox",
        None,
        "Only the sandboxed globals (no files, processes, C modules or debug)",
    ),
    MEMORY_LIMIT,
    valued(
        "timeout",
        "SECONDS",
        "End the run after SECONDS (like 30 or 0.5), waiting or computing; 0 for none \
         (default: none; 60 with --sandbox)",
        Complete::Nothing,
    ),
    LIB_PATH,
    VERBOSE,
    QUIET,
    switch("version", Some('V'), "Print the core and Lua versions"),
    HELP_FLAG,
];

pub const CHECK: Subcommand = Subcommand {
    name: "check",
    positionals: "FILE...",
    arity: (1, None),
    complete: Complete::File,
    summary: "Run YAML check files (also: assay FILE.yaml)",
    about: "\
Validates every FILE (and what it includes) before anything runs, then runs the checks with
their retries, backoff and deadlines, and reports. Exit codes: 0 all passed, 1 any failed,
2 a bad file or usage.",
    flags: &[
        FORMAT,
        OUTPUT,
        PARALLEL,
        repeated(
            "only",
            "NAME",
            "Run only the check NAME (and the checks it depends on); may repeat",
            Complete::Nothing,
        ),
        repeated(
            "var",
            "K=V",
            "Set the var K (over the files' own vars); may repeat",
            Complete::Nothing,
        ),
        LIB_PATH,
        MEMORY_LIMIT,
        switch(
            "verbose",
            Some('v'),
            "Report every attempt, and log debug lines too",
        ),
        QUIET,
        HELP_FLAG,
    ],
};

pub const TEST: Subcommand = Subcommand {
    name: "test",
    positionals: "[PATH...]",
    arity: (0, None),
    complete: Complete::File,
    summary: "Run Lua test files (*_test.lua, test_*.lua)",
    about: "\
Runs each test file found under the PATHs (files or folders; default `tests/`) in a fresh VM.
In a file, `test(name, fn)` and `describe(name, fn)` define cases, `before_each(fn)` and
`after_each(fn)` wrap them; a file without cases is one case that passes unless it raises.
A test fails if it calls os.exit or leaves tasks, intervals or processes running.
Exit codes: 0 all passed, 1 any failed, 2 usage (or a --filter that matches no test).",
    flags: &[
        FORMAT,
        OUTPUT,
        PARALLEL,
        valued(
            "filter",
            "PATTERN",
            "Run only the cases whose full name contains PATTERN (none matching: exit 2)",
            Complete::Nothing,
        ),
        valued(
            "timeout",
            "SECONDS",
            "End a test file that runs longer than SECONDS, keeping its finished cases \
             (default: 60; 0 for none)",
            Complete::Nothing,
        ),
        LIB_PATH,
        MEMORY_LIMIT,
        VERBOSE,
        QUIET,
        HELP_FLAG,
    ],
};

pub const PLUGINS: Subcommand = Subcommand {
    name: "plugins",
    positionals: "",
    arity: (0, Some(0)),
    complete: Complete::Nothing,
    summary: "List the plugins on the lib path, usable or not",
    about: "\
Lists every plugin found on the lib path: its version, what it provides, and whether it can
be used (or why not). Each usable plugin's library is opened, so a broken one shows here.",
    flags: &[
        switch("json", None, "Print the listing as JSON"),
        LIB_PATH,
        HELP_FLAG,
    ],
};

pub const PACKAGES: Subcommand = Subcommand {
    name: "packages",
    positionals: "",
    arity: (0, Some(0)),
    complete: Complete::Nothing,
    summary: "List the Lua packages on the lib path, usable or not",
    about: "\
Lists every Lua package found on the lib path: its version, and whether a script can require
it here (the core versions its manifest accepts, the builtins and plugins it needs, the
packages it depends on), or why not. With --sandbox, as a sandboxed script would see them.",
    flags: &[
        switch("json", None, "Print the listing as JSON"),
        switch(
            "sandbox",
            None,
            "Check the packages as a sandboxed script would load them",
        ),
        LIB_PATH,
        HELP_FLAG,
    ],
};

pub const PACKAGE: Subcommand = Subcommand {
    name: "package",
    positionals: "DIR",
    arity: (1, Some(1)),
    complete: Complete::Dir,
    summary: "Pack a Lua package into its archive, and print its index entry",
    about: "\
Packs the Lua package in DIR (its manifest.yaml checked, its files sorted, times and owners
zeroed: the same folder always gives the same bytes) into <name>-<version>.tar.gz, written to
--out (default: the current folder), and prints the archive's index entry as JSON (name,
version, description, requires, depends, sha256, size, file). Dot files and a top-level tests/
folder are left out; a symbolic link or a special file is refused.",
    flags: &[
        valued(
            "out",
            "DIR",
            "Folder to write the archive to (default: the current folder)",
            Complete::Dir,
        ),
        HELP_FLAG,
    ],
};

pub const COMPLETIONS: Subcommand = Subcommand {
    name: "completions",
    positionals: "SHELL",
    arity: (1, Some(1)),
    complete: Complete::Words(SHELLS),
    summary: "Print shell completions (bash, zsh or fish)",
    about: "\
Prints a completion script for SHELL. Install it with, for example:
  assay completions bash > ~/.local/share/bash-completion/completions/assay
  assay completions zsh > \"${fpath[1]}/_assay\"
  assay completions fish > ~/.config/fish/completions/assay.fish",
    flags: &[HELP_FLAG],
};

pub const HELP: Subcommand = Subcommand {
    name: "help",
    positionals: "[SUBCOMMAND]",
    arity: (0, Some(1)),
    complete: Complete::Words(&[
        "check",
        "test",
        "plugins",
        "packages",
        "package",
        "types",
        "completions",
        "help",
    ]),
    summary: "Print this help, or a subcommand's",
    about: "Prints the usage of assay, or of SUBCOMMAND.",
    flags: &[HELP_FLAG],
};

pub const SUBCOMMANDS: &[&Subcommand] = &[
    &CHECK,
    &TEST,
    &PLUGINS,
    &PACKAGES,
    &PACKAGE,
    &spec_install::INSTALL,
    &spec_install::UPDATE,
    &spec_install::REMOVE,
    &spec_install::SEARCH,
    &spec_install::PUBLISH,
    &spec_install::INIT,
    &spec_install::TYPES,
    &COMPLETIONS,
    &HELP,
];

/// The subcommand named `name`.
pub fn find(name: &str) -> Option<&'static Subcommand> {
    SUBCOMMANDS.iter().copied().find(|s| s.name == name)
}

/// What a subcommand's command line said.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Matches {
    /// Flags given, by long name, with their values (`None` for a switch), in order.
    pub flags: Vec<(&'static str, Option<String>)>,
    pub positionals: Vec<String>,
}

impl Matches {
    pub fn has(&self, long: &str) -> bool {
        self.flags.iter().any(|(name, _)| *name == long)
    }

    /// The value of a flag given once (the last one wins for a flag that does not repeat).
    pub fn value(&self, long: &str) -> Option<&str> {
        self.flags
            .iter()
            .rev()
            .find(|(name, value)| *name == long && value.is_some())
            .and_then(|(_, value)| value.as_deref())
    }

    /// Every value of a repeated flag, in order.
    pub fn values<'a>(&'a self, long: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.flags
            .iter()
            .filter(move |(name, _)| *name == long)
            .filter_map(|(_, value)| value.as_deref())
    }
}

/// Parses what follows `assay <sub.name>`. `-h`/`--help` anywhere is kept as the switch
/// `help`, and the positionals are then not checked. Errors name the subcommand.
pub fn parse(sub: &'static Subcommand, parser: &mut lexopt::Parser) -> Result<Matches, String> {
    parse_after(sub, Vec::new(), parser)
}

/// [`parse`], with `positionals` already given (`assay checks.yaml ...` names the file first).
pub fn parse_after(
    sub: &'static Subcommand,
    positionals: Vec<String>,
    parser: &mut lexopt::Parser,
) -> Result<Matches, String> {
    use lexopt::prelude::*;
    let named = |e: &dyn std::fmt::Display| format!("{}: {e}", sub.name);
    let mut matches = Matches {
        flags: Vec::new(),
        positionals,
    };
    while let Some(arg) = parser.next().map_err(|e| named(&e))? {
        let flag = match &arg {
            Long(long) => sub.flags.iter().find(|f| f.long == *long),
            Short(short) => sub.flags.iter().find(|f| f.short == Some(*short)),
            Value(_) => None,
        };
        match (arg, flag) {
            (Value(word), _) => matches.positionals.push(text(word, sub.name)?),
            (_, Some(flag)) => {
                let value = match flag.value {
                    Some(_) => Some(text(parser.value().map_err(|e| named(&e))?, sub.name)?),
                    None => None,
                };
                if !flag.repeats && flag.value.is_some() && matches.has(flag.long) {
                    return Err(format!(
                        "{}: --{} given twice (it takes one value)",
                        sub.name, flag.long
                    ));
                }
                matches.flags.push((flag.long, value));
            }
            (other, None) => {
                return Err(format!("{}: {}", sub.name, other.unexpected()));
            }
        }
    }
    if matches.has("help") {
        return Ok(matches);
    }
    let count = matches.positionals.len();
    let (least, most) = sub.arity;
    if count < least {
        return Err(format!(
            "{}: missing {} (usage: {})",
            sub.name,
            sub.positionals.trim_matches(['[', ']', '.']),
            usage(sub)
        ));
    }
    if let Some(most) = most.filter(|most| count > *most) {
        let extra = &matches.positionals[most];
        return Err(format!(
            "{}: unexpected argument '{extra}' (usage: {})",
            sub.name,
            usage(sub)
        ));
    }
    Ok(matches)
}

fn text(value: OsString, sub: &str) -> Result<String, String> {
    value
        .into_string()
        .map_err(|v| format!("{sub}: '{}' is not valid UTF-8", v.to_string_lossy()))
}

/// `assay check [OPTIONS] FILE...`
pub fn usage(sub: &Subcommand) -> String {
    let mut line = format!("assay {}", sub.name);
    if sub.flags.iter().any(|f| f.long != "help") {
        line.push_str(" [OPTIONS]");
    }
    if !sub.positionals.is_empty() {
        line.push(' ');
        line.push_str(sub.positionals);
    }
    line
}

/// A subcommand's `--help`.
pub fn help(sub: &Subcommand) -> String {
    let mut out = format!(
        "{}\n\nUsage: {}\n\n{}\n\nOptions:\n",
        sub.summary,
        usage(sub),
        sub.about
    );
    write_flags(&mut out, sub.flags);
    out
}

/// The options table of a help text.
pub fn write_flags(out: &mut String, flags: &[Flag]) {
    for flag in flags {
        let mut names = match (flag.short, flag.long) {
            (Some(s), "") => format!("-{s}"),
            (Some(s), long) => format!("-{s}, --{long}"),
            (None, long) => format!("    --{long}"),
        };
        if let Some(value) = flag.value {
            names.push(' ');
            names.push_str(value);
        }
        let mut help = flag.help.to_owned();
        if flag.repeats && !help.contains("may repeat") {
            help.push_str("; may repeat");
        }
        // Names up to 21 columns share the line with the help; longer ones get a line of their own.
        if names.len() <= 21 {
            let _ = write!(out, "  {names:<21}  ");
        } else {
            let _ = write!(out, "  {names}\n  {:<21}  ", "");
        }
        let mut width = 0;
        for (i, word) in help.split(' ').enumerate() {
            if i > 0 && width + 1 + word.len() > 72 {
                let _ = write!(out, "\n  {:<21}  ", "");
                width = 0;
            } else if i > 0 {
                out.push(' ');
                width += 1;
            }
            out.push_str(word);
            width += word.len();
        }
        out.push('\n');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(sub: &'static Subcommand, args: &[&str]) -> Result<Matches, String> {
        let mut parser = lexopt::Parser::from_args(args.iter().map(OsString::from));
        parse(sub, &mut parser)
    }

    #[test]
    fn flags_values_and_positionals() {
        let m = run(
            &CHECK,
            &[
                "a.yaml",
                "--format",
                "tap",
                "--var",
                "x=1",
                "--var=y=2",
                "-v",
                "b.yaml",
            ],
        )
        .expect("valid");
        assert_eq!(m.positionals, ["a.yaml", "b.yaml"]);
        assert_eq!(m.value("format"), Some("tap"));
        assert_eq!(m.values("var").collect::<Vec<_>>(), ["x=1", "y=2"]);
        assert!(m.has("verbose") && !m.has("quiet"));
    }

    #[test]
    fn mistakes_name_the_subcommand() {
        let unknown = run(&PLUGINS, &["--bogus"]).expect_err("unknown");
        assert!(
            unknown.starts_with("plugins: ") && unknown.contains("--bogus"),
            "{unknown}"
        );
        let missing = run(&CHECK, &[]).expect_err("no file");
        assert!(missing.starts_with("check: missing FILE"), "{missing}");
        let extra = run(&COMPLETIONS, &["bash", "zsh"]).expect_err("two shells");
        assert!(extra.contains("'zsh'"), "{extra}");
        let twice = run(&CHECK, &["--format", "tap", "--format=json", "a"]).expect_err("twice");
        assert!(twice.contains("--format given twice"), "{twice}");
        let no_value = run(&CHECK, &["a", "--output"]).expect_err("no value");
        assert!(
            no_value.starts_with("check: ") && no_value.contains("--output"),
            "{no_value}"
        );
    }

    #[test]
    fn help_wins_over_missing_positionals() {
        assert!(run(&CHECK, &["--help"]).expect("help").has("help"));
        assert!(run(&COMPLETIONS, &["-h"]).expect("help").has("help"));
    }

    #[test]
    fn help_lists_every_flag() {
        for sub in SUBCOMMANDS {
            let text = help(sub);
            assert!(text.contains(&usage(sub)), "{text}");
            for flag in sub.flags {
                assert!(
                    text.contains(&format!("--{}", flag.long)),
                    "{}: {text}",
                    flag.long
                );
            }
        }
    }
}
