//! `assay completions bash|zsh|fish`: completion scripts made from the same tables as the
//! parser and the help (`spec`), so a new flag completes as soon as it parses.

use std::fmt::Write as _;

use super::spec::{Complete, Flag, RUN_FLAGS, SUBCOMMANDS, Subcommand};

/// The completion script for `shell`, or an error naming the shells there are.
pub fn script(shell: &str) -> Result<String, String> {
    match shell {
        "bash" => Ok(bash()),
        "zsh" => Ok(zsh()),
        "fish" => Ok(fish()),
        other => Err(format!(
            "completions: unknown shell '{other}' (bash, zsh or fish)"
        )),
    }
}

/// A flag's help cut to its first clause, without the characters the shells' quoting
/// would need escaped (descriptions only: nothing is lost that the help does not show).
fn brief(help: &str) -> String {
    let end = help.find([';', '(']).unwrap_or(help.len());
    help[..end]
        .chars()
        .filter(|c| !matches!(c, '[' | ']' | ':' | '\'' | '"' | '`' | '$' | '\\'))
        .collect::<String>()
        .trim()
        .to_owned()
}

fn names(flag: &Flag) -> Vec<String> {
    let mut names = Vec::new();
    if let Some(short) = flag.short {
        names.push(format!("-{short}"));
    }
    if !flag.long.is_empty() {
        names.push(format!("--{}", flag.long));
    }
    names
}

fn words(flags: &[Flag]) -> String {
    flags.iter().flat_map(names).collect::<Vec<_>>().join(" ")
}

fn bash_reply(complete: Complete) -> String {
    match complete {
        Complete::Nothing => "COMPREPLY=()".to_owned(),
        Complete::File => "COMPREPLY=($(compgen -f -- \"$cur\"))".to_owned(),
        Complete::Dir => "COMPREPLY=($(compgen -d -- \"$cur\"))".to_owned(),
        Complete::Words(w) => format!("COMPREPLY=($(compgen -W \"{}\" -- \"$cur\"))", w.join(" ")),
    }
}

/// The `case "$prev"` arms completing the values of `flags`.
fn bash_values(out: &mut String, flags: &[Flag], indent: &str) {
    for flag in flags.iter().filter(|f| f.value.is_some()) {
        let _ = writeln!(
            out,
            "{indent}{}) {}; return ;;",
            names(flag).join("|"),
            bash_reply(flag.complete)
        );
    }
}

fn bash() -> String {
    let subcommands: Vec<&str> = SUBCOMMANDS.iter().map(|s| s.name).collect();
    let run_valued: Vec<String> = RUN_FLAGS
        .iter()
        .filter(|f| f.value.is_some())
        .flat_map(names)
        .collect();
    let mut out = String::from(
        "# bash completion for assay (assay completions bash)\n\
         _assay() {\n\
         \x20   local cur=\"${COMP_WORDS[COMP_CWORD]}\" prev=\"${COMP_WORDS[COMP_CWORD-1]}\"\n\
         \x20   local sub=\"\" i word\n\
         \x20   # The subcommand, if the first word that is not an option (or its value) is one.\n\
         \x20   for ((i = 1; i < COMP_CWORD; i++)); do\n\
         \x20       word=\"${COMP_WORDS[i]}\"\n\
         \x20       case \"$word\" in\n",
    );
    let _ = writeln!(out, "            {}) ((i++)) ;;", run_valued.join("|"));
    let _ = writeln!(
        out,
        "            -*) ;;\n            {}) sub=\"$word\"; break ;;\n            *) sub=\"-script\"; break ;;\n        esac\n    done\n    case \"$sub\" in",
        subcommands.join("|")
    );
    for sub in SUBCOMMANDS {
        let _ = writeln!(out, "        {})", sub.name);
        out.push_str("            case \"$prev\" in\n");
        bash_values(&mut out, sub.flags, "                ");
        out.push_str("            esac\n");
        let _ = writeln!(
            out,
            "            if [[ \"$cur\" == -* ]]; then COMPREPLY=($(compgen -W \"{}\" -- \"$cur\")); else {}; fi ;;",
            words(sub.flags),
            bash_reply(sub.complete)
        );
    }
    out.push_str("        -script) COMPREPLY=($(compgen -f -- \"$cur\")) ;;\n        *)\n");
    out.push_str("            case \"$prev\" in\n");
    bash_values(&mut out, RUN_FLAGS, "                ");
    out.push_str("            esac\n");
    let _ = writeln!(
        out,
        "            if [[ \"$cur\" == -* ]]; then COMPREPLY=($(compgen -W \"{}\" -- \"$cur\"));\n            else COMPREPLY=($(compgen -W \"{}\" -- \"$cur\") $(compgen -f -- \"$cur\")); fi ;;\n    esac\n}}\ncomplete -o filenames -F _assay assay",
        words(RUN_FLAGS),
        subcommands.join(" ")
    );
    out
}

/// One `_arguments` spec per name of `flag`.
fn zsh_flag(flag: &Flag) -> String {
    let action = match (flag.value, flag.complete) {
        (None, _) => String::new(),
        (Some(value), Complete::Nothing) => format!(":{value}: "),
        (Some(value), Complete::File) => format!(":{value}:_files"),
        (Some(value), Complete::Dir) => format!(":{value}:_files -/"),
        (Some(value), Complete::Words(w)) => format!(":{value}:({})", w.join(" ")),
    };
    let repeat = if flag.repeats { "*" } else { "" };
    let names = names(flag);
    let spec = if names.len() > 1 {
        format!("{{{}}}", names.join(","))
    } else {
        names.concat()
    };
    let exclusive = if names.len() > 1 && !flag.repeats {
        format!("({})", names.join(" "))
    } else {
        String::new()
    };
    format!("'{exclusive}{repeat}{spec}[{}]{action}'", brief(flag.help))
}

fn zsh_positional(complete: Complete, name: &str) -> String {
    match complete {
        Complete::Nothing => String::new(),
        Complete::File => format!("'*:{name}:_files'"),
        Complete::Dir => format!("'*:{name}:_files -/'"),
        Complete::Words(w) => format!("'1:{name}:({})'", w.join(" ")),
    }
}

fn zsh() -> String {
    let mut out = String::from(
        "#compdef assay\n# zsh completion for assay (assay completions zsh)\n\n_assay() {\n    local curcontext=\"$curcontext\" state line\n    typeset -A opt_args\n    _arguments -C -s \\\n",
    );
    for flag in RUN_FLAGS {
        let _ = writeln!(out, "        {} \\", zsh_flag(flag));
    }
    out.push_str("        '1: :->first' \\\n        '*:: :->rest'\n    case $state in\n        first)\n            local -a subcommands\n            subcommands=(\n");
    for sub in SUBCOMMANDS {
        let _ = writeln!(out, "                '{}:{}'", sub.name, brief(sub.summary));
    }
    out.push_str("            )\n            _describe -t subcommands subcommand subcommands\n            _files ;;\n        rest)\n            case $line[1] in\n");
    for sub in SUBCOMMANDS {
        let _ = write!(out, "                {}) _arguments -s", sub.name);
        for flag in sub.flags {
            let _ = write!(out, " {}", zsh_flag(flag));
        }
        let positional = zsh_positional(sub.complete, &positional_name(sub));
        if !positional.is_empty() {
            let _ = write!(out, " {positional}");
        }
        out.push_str(" ;;\n");
    }
    out.push_str(
        // Autoloaded from $fpath, the file is the function's body and runs it; sourced
        // (`source <(assay completions zsh)`), it registers the function instead.
        "                *) _files ;;\n            esac ;;\n    esac\n}\n\nif [[ \"${funcstack[1]}\" = \"_assay\" ]]; then\n    _assay \"$@\"\nelse\n    compdef _assay assay\nfi\n",
    );
    out
}

fn positional_name(sub: &Subcommand) -> String {
    sub.positionals.trim_matches(['[', ']', '.']).to_lowercase()
}

fn fish_flag(condition: &str, flag: &Flag) -> String {
    let mut line = format!("complete -c assay -n '{condition}'");
    if let Some(short) = flag.short {
        let _ = write!(line, " -s {short}");
    }
    if !flag.long.is_empty() {
        let _ = write!(line, " -l {}", flag.long);
    }
    match (flag.value, flag.complete) {
        (None, _) => {}
        (Some(_), Complete::Nothing) => line.push_str(" -x"),
        (Some(_), Complete::File) => line.push_str(" -r -F"),
        (Some(_), Complete::Dir) => line.push_str(" -x -a '(__fish_complete_directories)'"),
        (Some(_), Complete::Words(w)) => {
            let _ = write!(line, " -x -a '{}'", w.join(" "));
        }
    }
    let _ = write!(line, " -d '{}'", brief(flag.help));
    line
}

fn fish() -> String {
    let names: Vec<&str> = SUBCOMMANDS.iter().map(|s| s.name).collect();
    let mut out = String::from(
        "# fish completion for assay (assay completions fish)\ncomplete -c assay -f\n",
    );
    for sub in SUBCOMMANDS {
        let _ = writeln!(
            out,
            "complete -c assay -n '__fish_use_subcommand' -a {} -d '{}'",
            sub.name,
            brief(sub.summary)
        );
    }
    out.push_str("complete -c assay -n '__fish_use_subcommand' -F\n");
    for flag in RUN_FLAGS {
        let _ = writeln!(out, "{}", fish_flag("__fish_use_subcommand", flag));
    }
    for sub in SUBCOMMANDS {
        let condition = format!("__fish_seen_subcommand_from {}", sub.name);
        for flag in sub.flags {
            let _ = writeln!(out, "{}", fish_flag(&condition, flag));
        }
        match sub.complete {
            Complete::Nothing => {}
            Complete::File => {
                let _ = writeln!(out, "complete -c assay -n '{condition}' -F");
            }
            Complete::Dir => {
                let _ = writeln!(
                    out,
                    "complete -c assay -n '{condition}' -a '(__fish_complete_directories)'"
                );
            }
            Complete::Words(w) => {
                let _ = writeln!(
                    out,
                    "complete -c assay -n '{condition}' -a '{}'",
                    w.join(" ")
                );
            }
        }
    }
    // Once a script is named, what follows is its own: files.
    let _ = writeln!(
        out,
        "complete -c assay -n 'not __fish_use_subcommand; and not __fish_seen_subcommand_from {}' -F",
        names.join(" ")
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_subcommand_and_flag_completes_in_every_shell() {
        for shell in ["bash", "zsh", "fish"] {
            let text = script(shell).expect("known shell");
            for sub in SUBCOMMANDS {
                assert!(text.contains(sub.name), "{shell}: {}", sub.name);
                for flag in sub.flags {
                    assert!(text.contains(flag.long), "{shell}: {}", flag.long);
                }
            }
        }
        assert!(script("tcsh").expect_err("unknown").contains("tcsh"));
    }

    #[test]
    fn descriptions_need_no_quoting() {
        assert_eq!(
            brief("Package roots, `:`-separated (default: $ASSAY_LIB_PATH)"),
            "Package roots, -separated"
        );
        assert_eq!(brief("Run CODE [x]; may repeat"), "Run CODE x");
    }
}
