//! A script as `lua` loads it: its source (a UTF-8 byte-order mark and a first `#` line
//! skipped, as `luaL_loadfile` skips them) and its `arg` table.

/// The bytes `lua` would compile from a script file or standard input: without a leading UTF-8
/// byte-order mark, and with a first line starting with `#` (a shebang) blanked so line numbers
/// stay right. A precompiled chunk may follow that line, as with `lua`; the line is dropped
/// then (a binary chunk has no line numbers to keep).
pub fn source(mut source: Vec<u8>) -> Vec<u8> {
    if source.starts_with(b"\xEF\xBB\xBF") {
        source.drain(..3);
    }
    if source.first() != Some(&b'#') {
        return source;
    }
    let end = source
        .iter()
        .position(|&b| b == b'\n')
        .unwrap_or(source.len());
    if source.get(end + 1) == Some(&0x1b) {
        source.drain(..=end);
        return source;
    }
    // `--` plus spaces: a comment of the same length, so nothing after it moves.
    for byte in &mut source[..end] {
        *byte = b' ';
    }
    source[0] = b'-';
    if end > 1 {
        source[1] = b'-';
    }
    source
}

/// The `arg` table's entries as `lua` lays them out (index, value): the script at 0, the words
/// after it at 1, 2, ..., and the interpreter and its options before it at -1, -2, ...; with
/// no script, the interpreter at 0 and every word after it at 1, 2, ...
///
/// `words` is the whole command line, the interpreter's name first; `script` the index of the
/// script in it.
pub fn arg_entries(words: &[String], script: Option<usize>) -> Vec<(i64, &str)> {
    let zero = script.filter(|&s| s < words.len()).unwrap_or(0);
    words
        .iter()
        .enumerate()
        .map(|(i, word)| (i as i64 - zero as i64, word.as_str()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(bytes: &[u8]) -> usize {
        bytes.iter().filter(|b| **b == b'\n').count()
    }

    #[test]
    fn shebang_is_blanked_keeping_line_numbers() {
        let s = source(b"#!/usr/bin/env assay\nprint(1)\n".to_vec());
        assert!(s.starts_with(b"--"));
        assert_eq!(lines(&s), 2);
        assert_eq!(source(b"#\nx".to_vec()), b"-\nx");
    }

    #[test]
    fn a_byte_order_mark_is_skipped_before_a_shebang_too() {
        assert_eq!(source(b"\xEF\xBB\xBFprint(1)".to_vec()), b"print(1)");
        let s = source(b"\xEF\xBB\xBF#!/bin/assay\nprint(1)".to_vec());
        assert!(s.starts_with(b"--") && s.ends_with(b"\nprint(1)"), "{s:?}");
        // Only at the very start.
        assert_eq!(source(b"x\xEF\xBB\xBF".to_vec()), b"x\xEF\xBB\xBF");
    }

    #[test]
    fn a_binary_chunk_may_follow_a_shebang() {
        assert_eq!(source(b"#!/bin/assay\n\x1bLua".to_vec()), b"\x1bLua");
    }

    #[test]
    fn arg_is_laid_out_as_lua_does() {
        let words: Vec<String> = ["assay", "-e", "x=1", "s.lua", "a"]
            .iter()
            .map(|w| w.to_string())
            .collect();
        assert_eq!(
            arg_entries(&words, Some(3)),
            [
                (-3, "assay"),
                (-2, "-e"),
                (-1, "x=1"),
                (0, "s.lua"),
                (1, "a")
            ]
        );
        assert_eq!(
            arg_entries(&words[..3], None),
            [(0, "assay"), (1, "-e"), (2, "x=1")]
        );
    }
}
