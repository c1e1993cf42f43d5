//! The pattern functions against the reference: Debian's `lua5.4` runs the same generated
//! script as our VM, and every line of output (results and error messages, positions
//! included) must be the same.
//!
//! The cases come from a fixed-seed xorshift generator: random subjects over a small alphabet
//! rich in pattern characters, random patterns built from classes, sets, quantifiers,
//! captures, `%b`, `%f`, back references, anchors and malformed pieces, random `init`, `plain`,
//! `n` and replacements (strings with `%` escapes, numbers, a table, functions returning
//! strings, numbers, nil, false or tables), and arguments of wrong types; then a fixed list of
//! cases for the limits (recursion depth, capture count).

use std::fmt::Write as _;
use std::io::Write as _;
use std::process::{Command, Stdio};
use std::rc::Rc;

use super::tests::{port_only, port_only_with, vm_with};

/// How many random cases of each function.
const CASES: usize = 2500;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        // xorshift64
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

/// A Lua string literal of any bytes.
fn literal(bytes: &[u8]) -> String {
    let mut out = String::from("\"");
    for &b in bytes {
        if b.is_ascii_alphanumeric() || b" _.,;:()[]{}<>^$*+?-=!#&|~'/".contains(&b) {
            out.push(b as char);
        } else {
            let _ = write!(out, "\\{b:03}");
        }
    }
    out.push('"');
    out
}

const ALPHABET: &[u8] = b"aaabbbcxyz  ()[]%.-^$1209_AZ\t\n\0\xff\xe9,;";

const SUBJECTS: &[&str] = &[
    "hello world",
    "THE (quick) fox",
    "key = value; other=2",
    "  trim me  ",
    "f(a(b)c)[x]",
    "aaaaaaaaaa",
    "",
];

const ATOMS: &[&str] = &[
    "a", "b", "c", "x", " ", "1", ".", ".", "%a", "%d", "%s", "%w", "%p", "%l", "%u", "%x", "%c",
    "%g", "%A", "%S", "%W", "%D", "%P", "%.", "%%", "%(", "%]", "%z", "%-", "[ab]", "[^ab]",
    "[a-c]", "[%a_]", "[^%s]", "[]]", "[^]]", "[a-]", "[%]]", "[%w%p]", "[0-9a-f]", "\u{0}",
    "\\255", "-", "=", ",", ";", "]",
];

const SUFFIXES: &[&str] = &["", "", "", "*", "+", "-", "?"];

const SPECIALS: &[&str] = &[
    "(", ")", "(", ")", "()", "%b()", "%b[]", "%bab", "%f[%w]", "%f[%W]", "%f[%s]", "%f[a]", "%1",
    "%2", "$", "^",
];

const MALFORMED: &[&str] = &["%", "[a", "[", "%f", "%fa", "%b", "%bx", "[^", "[%"];

fn subject(rng: &mut Rng) -> Vec<u8> {
    if rng.chance(25) {
        return rng.pick(SUBJECTS).as_bytes().to_vec();
    }
    let len = rng.below(16);
    (0..len)
        .map(|_| ALPHABET[rng.below(ALPHABET.len())])
        .collect()
}

/// A random pattern, or (half the time) one made from a piece of `subject`, so that many
/// patterns match.
fn pattern(rng: &mut Rng, subject: &[u8]) -> String {
    literal(&pattern_bytes(rng, subject))
}

fn pattern_bytes(rng: &mut Rng, subject: &[u8]) -> Vec<u8> {
    if rng.chance(50) {
        return derived(rng, subject);
    }
    let mut p = String::new();
    if rng.chance(20) {
        p.push('^');
    }
    for _ in 0..1 + rng.below(5) {
        if rng.chance(75) {
            let atom = rng.pick(ATOMS);
            if atom == "\\255" {
                p.push('\u{ff}'); // encoded below as the byte 255
            } else {
                p.push_str(atom);
            }
            p.push_str(rng.pick(SUFFIXES));
        } else {
            p.push_str(rng.pick(SPECIALS));
        }
    }
    if rng.chance(5) {
        p.push_str(rng.pick(MALFORMED));
    } else if rng.chance(15) {
        p.push('$');
    }
    p.chars()
        .map(|c| if c == '\u{ff}' { 255 } else { c as u8 })
        .collect()
}

/// A pattern for a piece of `subject`: its bytes as literals, `.`, a class or a set that
/// holds them, with quantifiers, captures, anchors and back references.
fn derived(rng: &mut Rng, subject: &[u8]) -> Vec<u8> {
    let start = rng.below(subject.len() + 1);
    let end = (start + rng.below(7)).min(subject.len());
    let mut p = Vec::new();
    if start == 0 && rng.chance(40) {
        p.push(b'^');
    }
    let (mut open, mut closed) = (0, 0);
    for &b in &subject[start..end] {
        if rng.chance(15) {
            p.push(b'(');
            open += 1;
        }
        if rng.chance(5) {
            p.extend_from_slice(b"()");
        }
        match rng.below(10) {
            0..=3 => {
                if b"^$*+?.([%-])".contains(&b) {
                    p.push(b'%');
                }
                p.push(b);
            }
            4 => p.push(b'.'),
            5 | 6 => {
                let classes: &[u8] = match b {
                    b'a'..=b'z' => b"alwxg",
                    b'A'..=b'Z' => b"auwxg",
                    b'0'..=b'9' => b"dwxg",
                    b' ' | b'\t' | b'\n' => b"sc",
                    0 => b"zc",
                    128.. => b"ASDWLUPG",
                    _ => b"pgPW",
                };
                p.push(b'%');
                p.push(classes[rng.below(classes.len())]);
            }
            7 => {
                p.push(b'[');
                if rng.chance(20) {
                    p.push(b'^');
                }
                if !b.is_ascii_alphanumeric() {
                    p.push(b'%');
                }
                p.extend_from_slice(&[b, b'x', b'0', b'-', b'9']);
                p.push(b']');
            }
            8 => p.extend_from_slice(b"%f[%w]"),
            _ if closed > 0 || rng.chance(10) => p.extend_from_slice(b"%1"),
            _ => p.push(b'.'),
        }
        p.extend_from_slice(rng.pick(SUFFIXES).as_bytes());
        if open > 0 && rng.chance(30) {
            p.push(b')');
            open -= 1;
            closed += 1;
        }
    }
    for _ in 0..open {
        if rng.chance(90) {
            p.push(b')');
        }
    }
    if end == subject.len() && rng.chance(40) {
        p.push(b'$');
    }
    p
}

/// A subject and a pattern as Lua source, sometimes of the wrong type (the pattern only when
/// `wrong_pattern`: a method call on a wrong subject is Lua's own error, not ours).
fn arguments(rng: &mut Rng, wrong_pattern: bool) -> (String, String) {
    let subject = subject(rng);
    let p = pattern(rng, &subject);
    let s = maybe_wrong(rng, literal(&subject));
    let p = if wrong_pattern {
        maybe_wrong(rng, p)
    } else {
        p
    };
    (s, p)
}

/// Sometimes an argument of the wrong type.
fn maybe_wrong(rng: &mut Rng, good: String) -> String {
    if rng.chance(4) {
        rng.pick(&["nil", "12", "1.5", "{}", "true", "-0.0", "1e300"])
            .to_owned()
    } else {
        good
    }
}

fn init(rng: &mut Rng) -> &'static str {
    rng.pick(&[
        "nil",
        "nil",
        "nil",
        "nil",
        "nil",
        "1",
        "2",
        "0",
        "-1",
        "-3",
        "-100",
        "5",
        "17",
        "100",
        "2.0",
        "\"2\"",
        "1.5",
        "{}",
        "math.mininteger",
        "math.maxinteger",
    ])
}

fn replacement(rng: &mut Rng) -> String {
    let r = rng.pick(&[
        "\"x\"",
        "\"%0\"",
        "\"<%1>\"",
        "\"%2\"",
        "\"%%\"",
        "\"%\"",
        "\"%x\"",
        "\"[%0|%1]\"",
        "\"\"",
        "\"%1%1\"",
        "7",
        "1.5",
        "T",
        "T",
        "F1",
        "F2",
        "F3",
        "nil",
        "true",
    ]);
    r.to_owned()
}

/// One line of the generated script per case, each calling one of the helpers `C` (a call
/// whose results are printed), `G` (a gmatch iterator, run to its end).
fn cases() -> Vec<String> {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut lines = Vec::new();
    for _ in 0..CASES {
        let (s, p) = arguments(&mut rng, true);
        let i = init(&mut rng);
        let plain = rng.pick(&["nil", "nil", "nil", "true", "false", "1"]);
        lines.push(format!(
            "C(function() return pack(string.find({s}, {p}, {i}, {plain})) end)"
        ));
    }
    for _ in 0..CASES {
        let (s, p) = arguments(&mut rng, false);
        let i = init(&mut rng);
        if rng.chance(50) {
            lines.push(format!(
                "C(function() return pack(string.match({s}, {p}, {i})) end)"
            ));
        } else {
            lines.push(format!(
                "C(function() return pack(({s}):match({p}, {i})) end)"
            ));
        }
    }
    for _ in 0..CASES {
        let (s, p) = arguments(&mut rng, true);
        let i = init(&mut rng);
        // not a tail call: see the module docs
        lines.push(format!(
            "G(function() local it = string.gmatch({s}, {p}, {i}) return it end)"
        ));
    }
    for _ in 0..CASES {
        let (s, p) = arguments(&mut rng, true);
        let r = replacement(&mut rng);
        let n = rng.pick(&[
            "nil", "nil", "nil", "nil", "nil", "0", "1", "2", "-1", "1.5", "\"1\"", "{}",
        ]);
        if rng.chance(80) {
            lines.push(format!(
                "C(function() return pack(string.gsub({s}, {p}, {r}, {n})) end)"
            ));
        } else {
            lines.push(format!(
                "C(function() return pack(({s}):gsub({p}, {r}, {n})) end)"
            ));
        }
    }
    for fixed in [
        r#"string.find(string.rep("a", 300), string.rep("a?", 300))"#,
        r#"string.find(string.rep("a", 300), string.rep("a?", 198))"#,
        r#"string.find(string.rep("a", 300), string.rep("a?", 199))"#,
        r#"string.find(string.rep("a", 300), string.rep("(a)", 32))"#,
        r#"string.find(string.rep("a", 300), string.rep("(a)", 33))"#,
        r#"string.find(string.rep("a", 30), string.rep("()", 32))"#,
        r#"string.gsub(string.rep("a", 30), string.rep("(a)", 9), "%9%1")"#,
        r#"string.match(string.rep("a", 250), string.rep("a", 250) .. "$")"#,
        r#"string.match(string.rep("(", 250) .. string.rep(")", 250), "%b()")"#,
        r#"string.find("a\0b", "\0")"#,
        r#"string.find("a\0b", "%z")"#,
        r#"string.find("a\0b", "[\0]")"#,
        r#"string.find("a.b", ".", 1, true)"#,
        r#"string.gsub("abc", "", "-")"#,
        r#"string.gsub("hello world", "o", {o = "0"})"#,
        r#"string.gsub("hello", "(l)(l)", "%2%1%0")"#,
        r#"string.gsub("hello", "l+", function(x) return #x end)"#,
        r#"string.find("", "")"#,
        r#"string.find("", "", 2)"#,
        r#"string.match("", "^$")"#,
        r#"string.gsub("", "^", "x")"#,
        r#"string.gsub("abc", "$", "x")"#,
        r#"string.gsub("abc", "^", "x")"#,
        r#"string.match(" \t\n\v\f\r", "^%s*$")"#,
        r#"string.match("\127\31", "^%c+$")"#,
        r#"string.find("\200\255", "[\128-\255]+")"#,
        r#"string.find("x", "[x-]")"#,
        r#"string.find("-", "[x-]")"#,
        r#"string.find("]", "[]")"#,
        r#"string.find("a", "[^]")"#,
        r#"string.find("a", "%g%")"#,
        r#"string.gsub("abc", "%w", function(c) if c == "b" then return {} end end)"#,
        r#"string.gsub("abc", "%w", {b = true})"#,
        r#"string.gsub("abc", "%w", {a = 1, b = 2.5})"#,
        r#"string.gsub("abc", "(%w)(%w)", "%2%1")"#,
        r#"string.gsub("abc", "(%w)", "%2")"#,
        r#"string.gsub("abc", "%w", "%1%0%%")"#,
        r##"string.gsub("abc", "%w", function(...) return select("#", ...) end)"##,
        r#"string.gsub("abc", "()(%w)", function(p, c) return p .. c end)"#,
        r#"string.gsub("abc", "%w", setmetatable({}, {__index = function(_, k) return k:upper() end}))"#,
        r#"string.gsub("abc", "%w", setmetatable({}, {__index = function() error("no") end}))"#,
        r#"string.gsub("abc", "%w", function() error({}) end)"#,
        r#"string.gsub("hello world", "o", "%")"#,
        r#"string.gsub("abc", "b", 12)"#,
        r#"string.gsub("abc", "", "-", 2)"#,
        r#"string.gsub("abc", "%w", "x", 2.0)"#,
        r#"string.find("abc", "b", 2.0)"#,
        r#"string.find("abc", "b", "2")"#,
        r#"string.find(123, 2)"#,
        r#"string.match(12.5, "%d+")"#,
    ] {
        lines.push(format!("C(function() return pack({fixed}) end)"));
    }
    // called by pcall directly: Lua reports no position (the caller is C) and names the
    // function 'string.find'
    for direct in [
        r#"string.find, "a", "%""#,
        r#"string.find, nil, "x""#,
        r#"string.match, "a", "(""#,
        r#"string.match, "a", "a", 1.5"#,
        r#"string.gsub, "abc", "%w", function() return {} end"#,
        r#"string.gsub, "abc", "%w", {b = true}"#,
        r#"string.gsub, "abc", "%w", "%2""#,
        r#"string.gsub, "abc", "%w""#,
        r#"string.gmatch("a", "%")"#,
        r#"string.gmatch("abc", "()b()")"#,
        r#"string.find, "abc", "b", 1, true"#,
    ] {
        lines.push(format!("P({direct})"));
    }
    lines
}

/// The helpers, then one case per line, then `tail` (on the last line).
fn script(cases: &[String], tail: &str) -> String {
    let mut s = String::from(
        r##"local pack, out = table.pack, {}
local T = {a = "A", b = false, c = 3, d = {}, [1] = "one", [3] = 3.5, x = "%1"}
local function F1(...) local n = select("#", ...) local t = {} for i = 1, n do t[i] = tostring((select(i, ...))) end return n .. ":" .. table.concat(t, "|") end
local function F2(x) if x == "a" then return nil elseif x == "b" then return false elseif x == "c" then return {} elseif x == "1" then return 1.25 end return "<" .. tostring(x) .. ">" end
local function F3(x) if x == " " then error("space!") end return 42 end
local function enc(v) local t = type(v) if t == "string" then local b = {} for i = 1, #v do local c = v:byte(i) if c >= 32 and c < 127 and c ~= 92 then b[#b + 1] = string.char(c) else b[#b + 1] = "\\" .. c .. ";" end end return "s'" .. table.concat(b) .. "'" elseif math.type(v) == "integer" then return "i" .. tostring(v) elseif t == "number" then return "f" .. string.format("%.17g", v) else return t end end
local function line(ok, r) local b = {ok and "ok" or "err"} if ok then b[#b + 1] = "n=" .. r.n for i = 1, r.n do b[#b + 1] = enc(r[i]) end else b[#b + 1] = enc(r) end out[#out + 1] = table.concat(b, " ") end
local function C(f) local ok, r = pcall(f) line(ok, r) end
local function R(ok, ...) if ok then line(true, pack(...)) else line(false, (...)) end end
local function P(...) R(pcall(...)) end
local function G(f) local ok, it = pcall(f) if not ok then line(false, it) return end for _ = 1, 40 do local ok, r = pcall(function() return pack(it()) end) line(ok, r) if not ok or r.n == 0 then break end end end
"##,
    );
    for case in cases {
        s.push_str(case);
        s.push('\n');
    }
    s.push_str(tail);
    s
}

fn run_reference(script: &str) -> String {
    let mut child = match Command::new("lua5.4")
        .arg("-")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
    {
        Ok(child) => child,
        Err(e) => panic!(
            "the differential pattern test needs Debian's lua5.4 as its reference, and it \
             could not be run ({e}): install it with `scripts/services install` or \
             `apt-get install -y lua5.4`"
        ),
    };
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(script.as_bytes())
        .expect("script to lua5.4");
    let output = child.wait_with_output().expect("lua5.4 ran");
    assert!(
        output.status.success(),
        "lua5.4 failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("the output is escaped ASCII")
}

#[test]
fn same_results_and_errors_as_lua_5_4() {
    let cases = cases();
    let reference = script(&cases, "io.write(table.concat(out, \"\\n\"))");
    if let Some(path) = std::env::var_os("ASSAY_PATTERN_SCRIPT") {
        // to run the cases by hand: lua5.4 - < $ASSAY_PATTERN_SCRIPT
        std::fs::write(path, &reference).expect("script written");
    }
    let expected = run_reference(&reference);
    for (name, lua) in [
        ("the port alone", port_only()),
        ("the port with its fast path", vm_with(Rc::new(|| Ok(())))),
    ] {
        compare(name, &cases, &expected, &lua);
    }
}

fn compare(name: &str, cases: &[String], expected: &str, lua: &mlua::Lua) {
    let actual: String = lua
        .load(script(cases, "return table.concat(out, \"\\n\")"))
        .set_name("=stdin")
        .eval()
        .expect("the script runs");
    let (expected, actual): (Vec<&str>, Vec<&str>) =
        (expected.lines().collect(), actual.lines().collect());
    let mut report = String::new();
    let mut differences = 0;
    for (i, (want, got)) in expected.iter().zip(&actual).enumerate() {
        if want != got {
            differences += 1;
            if differences <= 15 {
                let _ = writeln!(
                    report,
                    "output line {}:\n  lua5.4: {want}\n  assay:  {got}",
                    i + 1
                );
            }
        }
    }
    if differences > 0 || expected.len() != actual.len() {
        panic!(
            "{name}: {differences} output lines differ from lua5.4 ({} lines from lua5.4, {} \
             from assay; {} cases); first differences:\n{report}\nthe first cases that \
             differ, each run alone (ASSAY_PATTERN_SCRIPT=FILE writes the whole script):\n{}",
            expected.len(),
            actual.len(),
            cases.len(),
            first_differing_cases(cases, lua)
        );
    }
    assert!(expected.len() >= cases.len(), "every case printed a line");
}

/// The source of the first cases whose output differs, found by running each case alone in
/// both runtimes (only on failure).
fn first_differing_cases(cases: &[String], lua: &mlua::Lua) -> String {
    let mut found = String::new();
    let mut count = 0;
    for case in cases {
        let one = std::slice::from_ref(case);
        let want = run_reference(&script(one, "io.write(table.concat(out, \"\\n\"))"));
        let got: String = lua
            .load(script(one, "return table.concat(out, \"\\n\")"))
            .set_name("=stdin")
            .eval()
            .unwrap_or_else(|e| format!("(script failed: {e})"));
        if want != got {
            let _ = writeln!(found, "{case}\n  lua5.4: {want}\n  assay:  {got}");
            count += 1;
            if count == 10 {
                break;
            }
        }
    }
    found
}

/// The fast path runs Lua's C matcher, which no deadline stops, when `fast::max_subject`
/// says its worst case is within budget. The port runs the very same algorithm and counts
/// its steps, so: on subjects as long as that allows (up to a point, to stay quick), shaped
/// to make the matcher work (runs of one byte, bytes of the pattern), the port's steps must
/// stay within the bound.
#[test]
fn the_fast_path_bound_holds() {
    let calls = Rc::new(std::cell::Cell::new(0u64));
    let counter = calls.clone();
    let lua = port_only_with(Rc::new(move || {
        counter.set(counter.get() + 1);
        Ok(())
    }));
    let string: mlua::Table = lua.globals().get("string").expect("string");
    let gsub: mlua::Function = string.get("gsub").expect("gsub");
    let gmatch_count: mlua::Function = lua
        .load("local gmatch = string.gmatch return function(s, p) local n = 0 for _ in gmatch(s, p) do n = n + 1 end return n end")
        .eval()
        .expect("counter");
    let mut rng = Rng(0x0123_4567_89ab_cdef);
    let mut checked = 0;
    for _ in 0..4000 {
        let seed = subject(&mut rng);
        let p = pattern_bytes(&mut rng, &seed);
        let gmatch = rng.chance(30);
        let (Some(bound), Some(max)) = (
            super::fast::bound(&p, gmatch),
            super::fast::max_subject(&p, gmatch),
        ) else {
            continue;
        };
        let n = (max as usize).min(300);
        let pool: Vec<u8> = p.iter().chain(&seed).copied().collect();
        if pool.is_empty() {
            continue;
        }
        let one = pool[rng.below(pool.len())];
        let shapes = [
            vec![one; n],
            (0..n)
                .map(|_| pool[rng.below(pool.len())])
                .collect::<Vec<u8>>(),
        ];
        for s in shapes {
            calls.set(0);
            let (ls, lp) = (
                lua.create_string(&s).expect("s"),
                lua.create_string(&p).expect("p"),
            );
            if gmatch {
                gmatch_count
                    .call::<mlua::Value>((ls, lp))
                    .expect("gmatch runs");
            } else {
                gsub.call::<mlua::MultiValue>((ls, lp, ""))
                    .expect("gsub runs");
            }
            let steps = calls.get() as f64 * f64::from(super::engine::INTERRUPT_EVERY);
            assert!(
                steps <= bound.steps(s.len()),
                "{:?} on {} bytes {:?}: {steps} steps, bound {}",
                String::from_utf8_lossy(&p),
                s.len(),
                String::from_utf8_lossy(&s[..s.len().min(20)]),
                bound.steps(s.len())
            );
            checked += 1;
        }
    }
    assert!(checked > 1000, "{checked} cases checked");
}
