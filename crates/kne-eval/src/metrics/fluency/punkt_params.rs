//! The parameters of a pre-trained Punkt model, read at run time from a folder in NLTK's
//! plain-text `punkt_tab` layout. `nltk.sent_tokenize` uses NLTK's English model (Kiss &
//! Strunk 2006; NLTK data `punkt_tab/english`, Apache-2.0), which `cargo xtask fetch-data`
//! puts in `data/nltk/punkt_tab/english/` (checksummed; see `datasets/README.md`).
//!
//! | file | one line per |
//! |---|---|
//! | `abbrev_types.txt` | abbreviation type (lower case, final period removed) |
//! | `collocations.tab` | collocation across which no sentence breaks: `<type>\t<type>` |
//! | `sent_starters.txt` | frequent sentence starter (lower case) |
//! | `ortho_context.tab` | word type and its orthographic flags: `<type>\t<integer>` |
//!
//! Lines are taken as they are (a type may end with a space: `. . `); empty lines are
//! skipped; a final `\r` is not removed.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// Environment variable naming the folder holding the English Punkt parameters.
pub const PUNKT_DIR_ENV: &str = "KNE_PUNKT";

/// The four files of a `punkt_tab` folder.
pub const PUNKT_FILES: [&str; 4] = [
    "abbrev_types.txt",
    "collocations.tab",
    "sent_starters.txt",
    "ortho_context.tab",
];

/// Where the English Punkt parameters are: `$KNE_PUNKT` if set, otherwise
/// `<workspace>/data/nltk/punkt_tab/english` (where `cargo xtask fetch-data` puts them).
/// `<workspace>` is the source checkout this crate was built from. The folder may not
/// exist; [`PunktParams::load`] reports it.
pub fn default_punkt_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os(PUNKT_DIR_ENV) {
        return PathBuf::from(dir);
    }
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("..")
        .join("data")
        .join("nltk")
        .join("punkt_tab")
        .join("english")
}

/// Why the Punkt parameters could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum PunktError {
    /// A parameter file (or the whole folder) is not there.
    #[error(
        "Punkt parameters not found: {} is missing. Run `cargo xtask fetch-data` to fetch \
         NLTK's English Punkt parameters, or set {PUNKT_DIR_ENV} to a folder holding \
         abbrev_types.txt, collocations.tab, sent_starters.txt and ortho_context.tab",
        path.display()
    )]
    Missing {
        /// The missing file.
        path: PathBuf,
    },
    /// A parameter file could not be read (or is not UTF-8).
    #[error("{}: cannot read the Punkt parameters: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A line of a parameter file is malformed.
    #[error("{}:{line}: {problem} (run `cargo xtask fetch-data --force` to fetch it again)", path.display())]
    Malformed {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        problem: String,
    },
}

/// Punkt's orthographic context flags of a word type (NLTK's `_ORTHO_*` bits): where it
/// was seen upper- or lower-case (sentence-initially, internally, or unknown).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct Ortho(u8);

impl Ortho {
    const BEG_UC: u8 = 1 << 1;
    const MID_UC: u8 = 1 << 2;
    const UNK_UC: u8 = 1 << 3;
    const BEG_LC: u8 = 1 << 4;
    const MID_LC: u8 = 1 << 5;
    const UNK_LC: u8 = 1 << 6;
    const UC: u8 = Self::BEG_UC | Self::MID_UC | Self::UNK_UC;
    const LC: u8 = Self::BEG_LC | Self::MID_LC | Self::UNK_LC;
    const ALL: u8 = Self::UC | Self::LC;

    /// Seen with a lower-case first letter somewhere.
    pub fn lower_seen(self) -> bool {
        self.0 & Self::LC != 0
    }

    /// Seen with an upper-case first letter somewhere.
    pub fn upper_seen(self) -> bool {
        self.0 & Self::UC != 0
    }

    /// Seen upper-case sentence-internally.
    pub fn upper_mid_seen(self) -> bool {
        self.0 & Self::MID_UC != 0
    }

    /// Seen lower-case at a sentence start.
    pub fn lower_beg_seen(self) -> bool {
        self.0 & Self::BEG_LC != 0
    }
}

/// A Punkt model's parameters (see the module docs for the files).
///
/// [`PunktParams::english`] loads NLTK's English model once from [`default_punkt_dir`];
/// [`PunktParams::load`] reads any `punkt_tab` folder.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PunktParams {
    pub(super) abbrev_types: HashSet<String>,
    pub(super) sent_starters: HashSet<String>,
    /// Collocations, by the type before the period.
    pub(super) collocations: HashMap<String, HashSet<String>>,
    pub(super) ortho_context: HashMap<String, Ortho>,
}

impl PunktParams {
    /// Reads the four files of a `punkt_tab` folder (e.g. `data/nltk/punkt_tab/english`).
    ///
    /// # Errors
    /// [`PunktError::Missing`] (telling to run `cargo xtask fetch-data`) if a file is not
    /// there, [`PunktError::Io`] if one cannot be read, [`PunktError::Malformed`] with the
    /// file and line if one is malformed.
    pub fn load(dir: &Path) -> Result<Self, PunktError> {
        let [abbrev, colloc, starters, ortho] = PUNKT_FILES.map(|f| dir.join(f));
        let mut p = PunktParams::default();
        for (line, text) in lines(&abbrev)? {
            p.abbrev_types.insert(one_field(&abbrev, line, text)?);
        }
        for (line, text) in lines(&starters)? {
            p.sent_starters.insert(one_field(&starters, line, text)?);
        }
        for (line, text) in lines(&colloc)? {
            let [a, b] = fields(&colloc, line, text)?;
            p.collocations.entry(a).or_default().insert(b);
        }
        for (line, text) in lines(&ortho)? {
            let [typ, flags] = fields(&ortho, line, text)?;
            let flags = flags
                .parse::<u8>()
                .ok()
                .filter(|f| f & !Ortho::ALL == 0)
                .ok_or_else(|| malformed(&ortho, line, format!("`{flags}` is not a set of Punkt orthographic flags (an even integer below 128)")))?;
            if p.ortho_context.insert(typ.clone(), Ortho(flags)).is_some() {
                return Err(malformed(&ortho, line, format!("`{typ}` is listed twice")));
            }
        }
        Ok(p)
    }

    /// NLTK's English parameters from [`default_punkt_dir`] (`$KNE_PUNKT`, else
    /// `<workspace>/data/nltk/punkt_tab/english`), read on the first call and kept for the
    /// life of the process. A failure is not kept: a later call tries again.
    ///
    /// # Errors
    /// As [`PunktParams::load`].
    pub fn english() -> Result<&'static PunktParams, PunktError> {
        static ENGLISH: OnceLock<PunktParams> = OnceLock::new();
        if let Some(p) = ENGLISH.get() {
            return Ok(p);
        }
        let p = PunktParams::load(&default_punkt_dir())?;
        Ok(ENGLISH.get_or_init(|| p))
    }

    /// Number of abbreviation types, sentence starters, collocations and word types with
    /// an orthographic context.
    pub fn counts(&self) -> [usize; 4] {
        [
            self.abbrev_types.len(),
            self.sent_starters.len(),
            self.collocations.values().map(HashSet::len).sum(),
            self.ortho_context.len(),
        ]
    }

    /// The orthographic context of `typ` (no flags for an unseen type).
    pub(super) fn ortho(&self, typ: &str) -> Ortho {
        self.ortho_context.get(typ).copied().unwrap_or_default()
    }

    /// Whether `(before, after)` is a known collocation.
    pub(super) fn is_collocation(&self, before: &str, after: &str) -> bool {
        self.collocations
            .get(before)
            .is_some_and(|s| s.contains(after))
    }
}

fn malformed(path: &Path, line: usize, problem: String) -> PunktError {
    PunktError::Malformed {
        path: path.to_path_buf(),
        line,
        problem,
    }
}

/// The non-empty lines of `path` with their 1-based numbers.
fn lines(path: &Path) -> Result<Vec<(usize, String)>, PunktError> {
    let text = std::fs::read_to_string(path).map_err(|source| {
        if source.kind() == std::io::ErrorKind::NotFound {
            PunktError::Missing {
                path: path.to_path_buf(),
            }
        } else {
            PunktError::Io {
                path: path.to_path_buf(),
                source,
            }
        }
    })?;
    Ok(text
        .split('\n')
        .enumerate()
        .filter(|(_, l)| !l.is_empty())
        .map(|(i, l)| (i + 1, l.to_owned()))
        .collect())
}

fn one_field(path: &Path, line: usize, text: String) -> Result<String, PunktError> {
    if text.contains('\t') {
        return Err(malformed(
            path,
            line,
            "expected one type, found a tab".to_owned(),
        ));
    }
    Ok(text)
}

fn fields(path: &Path, line: usize, text: String) -> Result<[String; 2], PunktError> {
    let parts: Vec<&str> = text.split('\t').collect();
    match parts[..] {
        [a, b] if !a.is_empty() && !b.is_empty() => Ok([a.to_owned(), b.to_owned()]),
        _ => Err(malformed(
            path,
            line,
            format!(
                "expected two tab-separated fields, found {:?}",
                parts.join(" | ")
            ),
        )),
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    /// A fresh folder under the system temp dir, removed on drop.
    pub struct TempDir(pub PathBuf);

    impl TempDir {
        pub fn new(tag: &str) -> Self {
            static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
            let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let dir = std::env::temp_dir()
                .join(format!("kne-eval-punkt-{tag}-{}-{n}", std::process::id()));
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir).unwrap();
            TempDir(dir)
        }

        pub fn write(&self, file: &str, text: &str) {
            std::fs::write(self.0.join(file), text).unwrap();
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    /// A small model in a temporary folder.
    pub fn small() -> TempDir {
        let d = TempDir::new("small");
        d.write("abbrev_types.txt", ". . \ndr\nu.s\n");
        d.write("collocations.tab", "##number##\twho\nj\taron\n");
        d.write("sent_starters.txt", "however\nthe\n");
        d.write("ortho_context.tab", "the\t126\naback\t32\nzy\t4\n");
        d
    }

    #[test]
    fn loads_a_punkt_tab_folder() {
        let d = small();
        let p = PunktParams::load(&d.0).unwrap();
        assert_eq!(p.counts(), [3, 2, 2, 3]);
        assert!(p.abbrev_types.contains(". . "), "trailing spaces are kept");
        assert!(p.is_collocation("j", "aron") && !p.is_collocation("aron", "j"));
        let the = p.ortho("the");
        assert!(the.lower_seen() && the.upper_seen() && the.upper_mid_seen());
        let aback = p.ortho("aback");
        assert!(aback.lower_seen() && !aback.upper_seen() && !aback.lower_beg_seen());
        assert_eq!(p.ortho("unseen"), Ortho::default());
    }

    #[test]
    fn missing_files_say_to_fetch() {
        let d = small();
        std::fs::remove_file(d.0.join("ortho_context.tab")).unwrap();
        let e = PunktParams::load(&d.0).unwrap_err();
        assert!(matches!(e, PunktError::Missing { .. }), "{e:?}");
        let msg = e.to_string();
        assert!(msg.contains("ortho_context.tab"), "{msg}");
        assert!(
            msg.contains("cargo xtask fetch-data") && msg.contains(PUNKT_DIR_ENV),
            "{msg}"
        );
        let e = PunktParams::load(&d.0.join("nope"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("nope") && e.contains("abbrev_types.txt"), "{e}");
    }

    #[test]
    fn malformed_lines_are_named() {
        let cases = [
            (
                "ortho_context.tab",
                "the\t126\naback\n",
                2,
                "two tab-separated",
            ),
            ("ortho_context.tab", "the\t126\n\naback\tx\n", 3, "`x`"),
            ("ortho_context.tab", "the\t3\n", 1, "`3`"),
            ("ortho_context.tab", "the\t128\n", 1, "`128`"),
            ("ortho_context.tab", "the\t2\nthe\t4\n", 2, "twice"),
            ("collocations.tab", "a\tb\tc\n", 1, "two tab-separated"),
            ("collocations.tab", "\tb\n", 1, "two tab-separated"),
            ("sent_starters.txt", "the\nit\tis\n", 2, "found a tab"),
        ];
        for (file, text, line, what) in cases {
            let d = small();
            d.write(file, text);
            let e = PunktParams::load(&d.0).unwrap_err();
            let msg = e.to_string();
            assert!(
                matches!(&e, PunktError::Malformed { line: l, .. } if *l == line),
                "{file} {text:?}: {msg}"
            );
            assert!(
                msg.contains(&format!("{file}:{line}:")) && msg.contains(what),
                "{msg}"
            );
        }
    }

    #[test]
    fn non_utf8_is_an_io_error() {
        let d = small();
        std::fs::write(d.0.join("abbrev_types.txt"), b"\xff\n").unwrap();
        let e = PunktParams::load(&d.0).unwrap_err();
        assert!(matches!(e, PunktError::Io { .. }), "{e:?}");
        assert!(e.to_string().contains("abbrev_types.txt"));
    }

    /// The parameters the tokenizer tests use: the fetched English model.
    pub fn english() -> &'static PunktParams {
        PunktParams::english().unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn english_model_loads() {
        let p = english();
        assert_eq!(p.counts(), [156, 39, 37, 20366]);
        assert!(p.abbrev_types.contains("dr") && p.abbrev_types.contains(". . "));
        assert!(p.sent_starters.contains("however"));
        assert!(p.is_collocation("##number##", "who"));
        assert!(p.ortho("the").lower_seen() && p.ortho("the").upper_mid_seen());
        assert!(p.ortho("aback").lower_seen() && !p.ortho("aback").upper_mid_seen());
        assert_eq!(p.ortho("zzzz-not-a-word"), Ortho::default());
        // the reduced table kne-eval once embedded: 14,702 types seen lower-case
        let lower = p.ortho_context.values().filter(|o| o.lower_seen()).count();
        assert_eq!(lower, 14_702);
    }
}
