//! Tricky cases of the pattern functions, checked against what Lua 5.4 gives.

use std::cell::Cell;
use std::rc::Rc;
use std::time::{Duration, Instant};

use mlua::{Lua, Value};

use super::{Interrupt, install};

/// A plain VM with the builtin protocol and the pattern functions.
pub(super) fn vm_with(interrupt: Interrupt) -> Lua {
    let lua = Lua::new();
    crate::builtins::function::install(&lua).expect("builtin protocol");
    install(&lua, interrupt).expect("pattern functions");
    lua
}

/// The same without the fast path through Lua's C functions: the port alone.
pub(super) fn port_only() -> Lua {
    port_only_with(Rc::new(|| Ok(())))
}

pub(super) fn port_only_with(interrupt: Interrupt) -> Lua {
    let lua = Lua::new();
    crate::builtins::function::install(&lua).expect("builtin protocol");
    super::install_with(&lua, interrupt, false).expect("pattern functions");
    lua
}

fn vm() -> Lua {
    vm_with(Rc::new(|| Ok(())))
}

/// Runs `code` (chunk "t") and returns what it returns, each value as Lua would print it.
fn run(lua: &Lua, code: &str) -> Vec<String> {
    let values: mlua::MultiValue = lua
        .load(code)
        .set_name("=t")
        .eval()
        .unwrap_or_else(|e| panic!("{code}: {e}"));
    values
        .iter()
        .map(|v| match v {
            Value::String(s) => s.to_string_lossy(),
            Value::Integer(i) => i.to_string(),
            Value::Nil => "nil".to_owned(),
            other => format!("{other:?}"),
        })
        .collect()
}

fn check(code: &str, expected: &[&str]) {
    assert_eq!(run(&port_only(), code), expected, "{code} (port)");
    assert_eq!(run(&vm(), code), expected, "{code} (with the fast path)");
}

/// The message `code` raises, caught by pcall.
fn error_of(code: &str) -> String {
    let wrapped = format!("local ok, e = pcall(function() {code} end) assert(not ok) return e");
    let port = run(&port_only(), &wrapped).join(" ");
    assert_eq!(run(&vm(), &wrapped).join(" "), port, "{code}");
    port
}

#[test]
fn installed_on_first_use() {
    // pairs() sees the four functions; the metatable that built them is gone after
    let lua = vm();
    let code = r#"local n = 0
        for k, v in pairs(string) do
          if k == "find" or k == "match" or k == "gmatch" or k == "gsub" then n = n + 1 end
        end
        return n, tostring(getmetatable(string)), type(rawget(string, "gsub"))"#;
    assert_eq!(run(&lua, code), ["4", "nil", "function"]);
    // the first use through a string value
    assert_eq!(run(&vm(), r#"return ("abc"):find("b")"#), ["2", "2"]);
    // a function the script sets before the first use is kept
    let lua = vm();
    let code = r#"string.find = function() return "mine" end
        return string.match("ab", "b"), string.find(), tostring(rawequal(string.find, ("").find))"#;
    assert_eq!(run(&lua, code), ["b", "mine", "true"]);
    // the others are the port's, which the interrupt reaches
    let lua = vm_with(Rc::new(|| Err(mlua::Error::runtime("stop"))));
    let err = lua
        .load(r#"return string.rep("a", 5000):match(".-.-x")"#)
        .exec()
        .expect_err("interrupted");
    assert!(
        matches!(&err, mlua::Error::RuntimeError(m) if m == "stop"),
        "{err:?}"
    );
}

#[test]
fn anchors() {
    check(r#"return ("hello"):find("^h")"#, &["1", "1"]);
    check(r#"return ("hello"):find("^e")"#, &["nil"]);
    check(r#"return ("hello"):find("o$")"#, &["5", "5"]);
    check(r#"return ("a$b"):find("$b")"#, &["2", "3"]);
    check(r#"return ("aaa"):gsub("^a", "b")"#, &["baa", "1"]);
    check(r#"return ("hello"):match("^(h)(e)")"#, &["h", "e"]);
    check(r#"return ("x^y"):match("x^y")"#, &["x^y"]);
    // in gmatch, '^' is an ordinary character
    check(
        r#"local r = {} for w in ("^a^a"):gmatch("^a") do r[#r+1] = w end return #r"#,
        &["2"],
    );
}

#[test]
fn balance_frontier_and_positions() {
    check(r#"return ("x(a(b)c)y"):match("%b()")"#, &["(a(b)c)"]);
    check(r#"return ("x(a(b"):match("%b()")"#, &["nil"]);
    check(
        r#"return ("THE (quick) fox"):gsub("%f[%a]%a+", "W")"#,
        &["W (W) W", "3"],
    );
    check(r#"return ("hello"):match("()ll()")"#, &["3", "5"]);
    check(r#"return ("hello"):find("l(l)()")"#, &["3", "4", "l", "5"]);
    check(r#"return ("abcabc"):match("(a)(b)c%1%2")"#, &["a", "b"]);
    check(r#"return ("  x\v"):match("^%s*(.-)%s*$")"#, &["x"]);
    check(r#"return ("\0a\0"):find("%z", 2)"#, &["3", "3"]);
    check(r#"return ("a.b"):find(".", 1, true)"#, &["2", "2"]);
    check(r#"return ("a)"):find(")")"#, &["2", "2"]); // no specials: a plain search
    check(r#"return ("abc"):find("b", -1)"#, &["nil"]);
    check(r#"return ("abc"):find("", 10)"#, &["nil"]);
    check(r#"return ("abc"):find("", 4)"#, &["4", "3"]);
    check(r#"return string.find(12345, 3)"#, &["3", "3"]);
    check(r#"return string.gsub(12.5, "%.", ",")"#, &["12,5", "1"]);
    check(r#"return string.gsub(125, "x", ",")"#, &["125", "0"]);
}

#[test]
fn gsub_replacements() {
    check(r#"return ("abc"):gsub("", "-")"#, &["-a-b-c-", "4"]);
    check(
        r#"return ("hello world"):gsub("o", {o="0"})"#,
        &["hell0 w0rld", "2"],
    );
    check(r#"return ("abc"):gsub("%w", "%0%0")"#, &["aabbcc", "3"]);
    check(
        r#"return ("hello world"):gsub("(o)", "[%1%0]")"#,
        &["hell[oo] w[oo]rld", "2"],
    );
    check(r#"return ("abc"):gsub("b", "%1")"#, &["abc", "1"]);
    check(r#"return ("abc"):gsub("()b", "%1")"#, &["a2c", "1"]);
    check(r#"return ("abc"):gsub("b", "%%")"#, &["a%c", "1"]);
    check(r#"return ("abc"):gsub("%w", "x", 2)"#, &["xxc", "2"]);
    check(r#"return ("abc"):gsub("%w", "x", -1)"#, &["abc", "0"]);
    check(
        r#"return ("a b c"):gsub("%w", function(c) if c ~= "b" then return c:upper() end end)"#,
        &["A b C", "3"],
    );
    check(
        r#"return ("a b"):gsub("(%w)", function(c) return c == "a" and 1.5 or false end)"#,
        &["1.5 b", "2"],
    );
    check(
        r#"local t = setmetatable({}, {__index = function(_, k) return k .. "!" end})
           return ("ab"):gsub(".", t)"#,
        &["a!b!", "2"],
    );
    check(r#"return ("abc"):gsub("b*", "-")"#, &["-a-c-", "3"]);
}

#[test]
fn gmatch_iterates_like_lua() {
    check(
        r#"local r = {} for w in ("abc"):gmatch("x*") do r[#r+1] = "<" .. w .. ">" end
           return table.concat(r)"#,
        &["<><><><>"],
    );
    check(
        r#"local r = {} for k, v in ("a=1, b=2"):gmatch("(%w+)=(%w+)") do r[#r+1] = k .. v end
           return table.concat(r, ",")"#,
        &["a1,b2"],
    );
    check(
        r#"local r = {} for w in ("abcabc"):gmatch("a", 3) do r[#r+1] = w end return #r"#,
        &["1"],
    );
    check(
        r#"local r = {} for a in ("abab"):gmatch("()b") do r[#r+1] = a end
           return table.concat(r, ",")"#,
        &["2,4"],
    );
    check(
        r##"local it = ("a"):gmatch("a") it() return select("#", it())"##,
        &["0"],
    );
}

#[test]
fn pattern_errors_have_lua_messages() {
    let cases = [
        (r#"("a"):find("%")"#, "malformed pattern (ends with '%')"),
        (r#"("a"):find("[a")"#, "malformed pattern (missing ']')"),
        (r#"("a"):find("%f")"#, "missing '[' after '%f' in pattern"),
        (
            r#"("a"):find("a%b")"#,
            "malformed pattern (missing arguments to '%b')",
        ),
        (r#"("a"):find("%1")"#, "invalid capture index %1"),
        (r#"("a"):find("(a%1)")"#, "invalid capture index %1"),
        (r#"("a"):match(")")"#, "invalid pattern capture"),
        (r#"("a"):find("(a")"#, "unfinished capture"),
        (r#"("a"):gsub("a", "%2")"#, "invalid capture index %2"),
        (
            r#"("a"):gsub("a", "%x")"#,
            "invalid use of '%' in replacement string",
        ),
        (
            r#"("a"):gsub("a", "%")"#,
            "invalid use of '%' in replacement string",
        ),
        (
            r#"("a"):gsub("a", function() return {} end)"#,
            "invalid replacement value (a table)",
        ),
        (r#"("a"):find(string.rep("()", 33))"#, "too many captures"),
        (
            r#"string.rep("a", 300):find(string.rep("a?", 300))"#,
            "pattern too complex",
        ),
        (
            r#"string.find(nil, "x")"#,
            "bad argument #1 to 'find' (string expected, got nil)",
        ),
        (
            r#"string.find("x")"#,
            "bad argument #2 to 'find' (string expected, got no value)",
        ),
        (
            r#"("x"):find({})"#,
            "bad argument #1 to 'find' (string expected, got table)",
        ),
        (
            r#"("x"):find("x", 1.5)"#,
            "bad argument #2 to 'find' (number has no integer representation)",
        ),
        (
            r#"string.match("x", "x", "y")"#,
            "bad argument #3 to 'match' (number expected, got string)",
        ),
        (
            r#"string.gsub("x", "x")"#,
            "bad argument #3 to 'gsub' (string/function/table expected, got no value)",
        ),
        (
            r#"local f = string.gmatch f()"#,
            "bad argument #1 to 'f' (string expected, got no value)",
        ),
    ];
    for (code, message) in cases {
        assert_eq!(error_of(code), format!("t:1: {message}"), "{code}");
    }
    // the iterator raises when it runs, at the position of its call
    assert_eq!(
        error_of("local it = ('a'):gmatch('%')\n it()"),
        "t:2: malformed pattern (ends with '%')"
    );
}

#[test]
fn replacement_function_errors_pass_unchanged() {
    check(
        r#"local e = {}
           local ok, got = pcall(string.gsub, "a", "a", function() error(e) end)
           return tostring(ok), tostring(got == e)"#,
        &["false", "true"],
    );
    check(
        r#"local ok, got = pcall(string.gsub, "a", "a", function() error("boom", 0) end)
           return got"#,
        &["boom"],
    );
}

/// The pattern bomb of the module docs: hours in C Lua, stopped at the 10th interrupt check.
#[test]
fn a_backtracking_bomb_is_interrupted() {
    let calls = Rc::new(Cell::new(0u32));
    let counter = calls.clone();
    let lua = vm_with(Rc::new(move || {
        counter.set(counter.get() + 1);
        if counter.get() >= 10 {
            Err(mlua::Error::runtime("deadline exceeded"))
        } else {
            Ok(())
        }
    }));
    let started = Instant::now();
    let err = lua
        .load(r#"return string.rep("a", 5000):find(".-.-.-.-.-.-x")"#)
        .exec()
        .expect_err("interrupted");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(calls.get(), 10);
    // the interrupt's own error, not a message made from it
    assert!(
        matches!(&err, mlua::Error::RuntimeError(m) if m == "deadline exceeded"),
        "{err:?}"
    );
    // the same for gmatch and gsub, and through pcall the value is the error object
    for code in [
        r#"for _ in string.rep("a", 5000):gmatch(".-.-.-.-.-.-x") do end"#,
        r#"string.rep("a", 5000):gsub(".-.-.-.-.-.-x", "")"#,
        r#"string.rep("a", 5000):match(".-.-.-.-.-.-x")"#,
    ] {
        calls.set(0);
        let err = lua.load(code).exec().expect_err(code);
        assert!(
            matches!(&err, mlua::Error::RuntimeError(m) if m == "deadline exceeded"),
            "{code}: {err:?}"
        );
    }
}

#[test]
fn memory_errors_stay_memory_errors() {
    let lua = vm_with(Rc::new(|| {
        Err(mlua::Error::MemoryError("not enough memory".into()))
    }));
    let err = lua
        .load(r#"string.rep("a", 5000):find(".-.-.-x")"#)
        .exec()
        .expect_err("interrupted");
    assert!(is_memory_error(&err), "{err:?}");

    // gsub's output counts against the VM's limit as it grows
    let lua = vm();
    lua.set_app_data(crate::vm::memory::Limit(8 << 20));
    lua.set_memory_limit(8 << 20).expect("limit");
    let err = lua
        .load(r#"local s = string.rep("x", 1 << 20) return s:gsub("x", "0123456789")"#)
        .exec()
        .expect_err("over the limit");
    assert!(is_memory_error(&err), "{err:?}");

    // a replacement function that runs out of memory: a memory error still, on both paths
    for lua in [vm(), port_only()] {
        lua.set_memory_limit(8 << 20).expect("limit");
        let err = lua
            .load(r#"return ("abc"):gsub("%w", function() return string.rep("x", 1 << 30) end)"#)
            .exec()
            .expect_err("over the limit");
        assert!(is_memory_error(&err), "{err:?}");
    }
}

/// A memory error, as a builtin's raises it (mlua wraps it in a callback error).
fn is_memory_error(e: &mlua::Error) -> bool {
    match e {
        mlua::Error::MemoryError(_) => true,
        mlua::Error::CallbackError { cause, .. } => is_memory_error(cause),
        _ => false,
    }
}
