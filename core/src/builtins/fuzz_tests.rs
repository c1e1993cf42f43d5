//! A small, bounded fuzz test of the builtins that take arbitrary input: json/yaml/toml parse
//! and encode, base64, regex and `assert.eq`. A few thousand inputs from a fixed seed, run in
//! one VM under a memory limit: every call must return or raise a plain string
//! error (a crash, an abort or a stack overflow kills this test binary, which fails it), and
//! whatever JSON parses must encode and parse back equal.

use crate::Runtime;

/// xorshift64*: deterministic, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

const SEEDS: &[&str] = &[
    r#"{"a": [1, 2.5, "x", null, true, {"b": []}], "c": {}}"#,
    "a: 1\nb: [x, y]\nc:\n  - d: e\n    f: |\n      text\n&anchor g: *anchor\n---\nk: v\n",
    "title = \"x\"\n[server]\nports = [1, 2]\nwhen = 1979-05-27T07:32:00Z\n[[items]]\nn = 1.5e3\n",
    "aGVsbG8gd29ybGQ=",
    r"(?P<k>\w+)=(\d+)|[a-z]{2,5}\b",
];

/// Bytes that make parsers and pattern compilers take their interesting branches.
const ALPHABET: &[u8] =
    b"{}[]()<>:,;\"'\\/\n\r\t #=-+*?&!|%@`.^$_0123456789eEaAzZ tfnlu\xc3\xa9\xff\x00";

fn random_text(rng: &mut Rng) -> Vec<u8> {
    let len = rng.below(120);
    (0..len).map(|_| *rng.pick(ALPHABET)).collect()
}

fn mutate(rng: &mut Rng, seed: &[u8]) -> Vec<u8> {
    let mut out = seed.to_vec();
    for _ in 0..1 + rng.below(4) {
        let at = rng.below(out.len() + 1);
        match rng.below(3) {
            0 if at < out.len() => {
                out.remove(at);
            }
            1 if at < out.len() => out[at] = *rng.pick(ALPHABET),
            _ => out.insert(at, *rng.pick(ALPHABET)),
        }
    }
    out
}

/// Nesting far past every parser's and walker's bound (they stop at 128 to 1,000 levels).
fn deep(rng: &mut Rng) -> Vec<u8> {
    let depth = 1 + rng.below(30_000);
    let (open, close): (&[u8], &[u8]) = *rng.pick(&[
        (b"[".as_slice(), b"]".as_slice()),
        (b"{\"a\":", b"}"),
        (b"- ", b""),
        (b"a = [", b"]"),
        (b"(", b")"),
    ]);
    let mut out = open.repeat(depth);
    out.extend(close.repeat(rng.below(2) * depth));
    out
}

fn inputs(count: usize) -> Vec<Vec<u8>> {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    (0..count)
        .map(|i| match i % 16 {
            0..=5 => random_text(&mut rng),
            6..=14 => {
                let seed = rng.pick(SEEDS).as_bytes();
                mutate(&mut rng, seed)
            }
            _ => deep(&mut rng),
        })
        .collect()
}

const CHECKS: &str = r#"
local inputs = ...
local problems = {}
local function check(what, input, ok, err)
  if not ok and type(err) ~= "string" then
    problems[#problems + 1] = ("%s(%q) raised a %s"):format(what, input:sub(1, 60), type(err))
  end
  return ok
end
local formats = {json = json, yaml = yaml, toml = toml}
for i, text in ipairs(inputs) do
  for name, format in pairs(formats) do
    local ok, value = pcall(format.parse, text)
    if check(name .. ".parse", text, ok, value) and value ~= nil then
      for encoder, f in pairs(formats) do
        check(encoder .. ".encode", text, pcall(f.encode, value))
      end
      check("assert.eq", text, pcall(assert.eq, value, value))
      if name == "json" then
        local encoded_ok, encoded = pcall(json.encode, value)
        if encoded_ok then
          local back_ok, back = pcall(json.parse, encoded)
          if not back_ok then
            problems[#problems + 1] = ("json round trip of %q: %s"):format(text:sub(1, 60), back)
          elseif not pcall(assert.eq, back, value) then
            problems[#problems + 1] = ("json round trip of %q differs"):format(text:sub(1, 60))
          end
        end
      end
    end
  end
  check("yaml.parse_all", text, pcall(yaml.parse_all, text))
  check("base64.decode", text, pcall(base64.decode, text, {url = i % 2 == 0}))
  check("base64.encode", text, pcall(base64.encode, text, {url = i % 3 == 0}))
  local pattern = inputs[(i * 7) % #inputs + 1]:sub(1, 40)
  check("regex.find", pattern, pcall(regex.find, text, pattern))
  check("regex.replace", pattern, pcall(regex.replace, text, pattern, "<$0>", {all = true}))
  check("regex.split", pattern, pcall(regex.split, text, pattern))
  check("regex.find_all", pattern, pcall(regex.find_all, text, pattern))
  check("assert.eq", text, pcall(assert.eq, text, pattern))
  if i % 50 == 0 then
    -- Tables nested deeper than any parser makes them, built in Lua.
    local depth = (i * 7919) % 60000
    local a, b = {}, {}
    local x, y = a, b
    for _ = 1, depth do x.n = {}; y.n = {}; x, y = x.n, y.n end
    check("assert.eq deep", tostring(depth), pcall(assert.eq, a, b))
    check("assert.ne deep", tostring(depth), pcall(assert.ne, a, b))
    for name, format in pairs(formats) do
      check(name .. ".encode deep", tostring(depth), pcall(format.encode, a))
    end
  end
end
return problems
"#;

#[test]
fn builtins_survive_generated_input() {
    // The inputs live in the VM too: room for them beside the default limit's worth of work.
    let rt = Runtime::builder()
        .memory_limit(256 << 20)
        .build()
        .expect("runtime");
    let lua = rt.lua();
    let list = lua.create_table().expect("table");
    for (i, input) in inputs(4000).iter().enumerate() {
        let s = lua.create_string(input).expect("string");
        list.raw_set(i + 1, s).expect("set");
    }
    lua.globals().set("fuzz_inputs", list).expect("global");
    rt.run_chunk(
        &format!("fuzz_problems = (function(...) {CHECKS} end)(fuzz_inputs)"),
        "=fuzz",
    )
    .expect("the checks run");
    let problems: Vec<String> = lua
        .globals()
        .get::<mlua::Table>("fuzz_problems")
        .expect("problems")
        .sequence_values()
        .collect::<mlua::Result<_>>()
        .expect("strings");
    assert!(
        problems.is_empty(),
        "{} problems:\n{}",
        problems.len(),
        problems.join("\n")
    );
}
