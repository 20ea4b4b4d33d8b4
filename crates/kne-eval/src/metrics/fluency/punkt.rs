//! Sentence splitting as `nltk.sent_tokenize` (Punkt, pre-trained English model) does it,
//! the first step of `nltk.word_tokenize`. The model's parameters are data, read at run
//! time ([`PunktParams`]); this file is the decision procedure.
//!
//! Written from the algorithm (Kiss & Strunk 2006) and the behaviour of NLTK 3.6.5 (the
//! version EasyEdit pins): candidate breaks are `.`, `?`, `!` at the end of a
//! non-whitespace run that is followed by whitespace and another token (or by a
//! punctuation character); each candidate is decided on the two Punkt tokens around it
//! (first pass: abbreviation list; second pass: collocations, the orthographic heuristic,
//! frequent sentence starters, initials and numbers); finally closing quotes and brackets
//! after a break are moved to the sentence before.

use super::punkt_params::PunktParams;

fn is_ws(c: char) -> bool {
    c.is_whitespace()
}

/// Python `\w` (approximately: Unicode alphanumerics and `_`).
pub(super) fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Python `\d` (approximately).
pub(super) fn is_digit(c: char) -> bool {
    c.is_numeric()
}

/// Punkt's "non-word" characters: they end a word and are tokens of their own.
fn is_non_word(c: char) -> bool {
    matches!(
        c,
        ')' | '"' | ';' | '}' | ']' | '*' | ':' | '@' | '\'' | '(' | '{' | '[' | '?' | '!'
    )
}

/// Characters that may start a Punkt word token.
fn is_word_start(c: char) -> bool {
    !matches!(
        c,
        '(' | '"'
            | '`'
            | '{'
            | '['
            | ':'
            | ';'
            | '&'
            | '#'
            | '*'
            | '@'
            | ')'
            | '}'
            | ']'
            | '-'
            | ','
    )
}

/// Length of the multi-character punctuation (`--`, `..`, `. . .`) starting at `i`, if any.
fn multi_char_at(c: &[char], i: usize) -> Option<usize> {
    let run = |ch: char| c[i..].iter().take_while(|&&x| x == ch).count();
    match c.get(i) {
        Some('-') if run('-') >= 2 => Some(run('-')),
        Some('.') if run('.') >= 2 => Some(run('.')),
        Some('.') => {
            // (\.\s){2,}\.  — greedy pairs, then a final period
            let mut pairs = 0;
            while i + 2 * pairs + 1 < c.len()
                && c[i + 2 * pairs] == '.'
                && is_ws(c[i + 2 * pairs + 1])
            {
                pairs += 1;
            }
            if pairs >= 2 && c.get(i + 2 * pairs) == Some(&'.') {
                Some(2 * pairs + 1)
            } else if pairs >= 3 {
                Some(2 * (pairs - 1) + 1)
            } else {
                None
            }
        }
        _ => None,
    }
}

/// Punkt's word tokenizer for one line: splits punctuation other than periods off words.
fn punkt_words(line: &[char]) -> Vec<String> {
    let n = line.len();
    let mut out = Vec::new();
    let mut i = 0;
    while i < n {
        if is_ws(line[i]) {
            i += 1;
            continue;
        }
        if let Some(len) = multi_char_at(line, i) {
            out.push(line[i..i + len].iter().collect());
            i += len;
            continue;
        }
        if is_word_start(line[i]) {
            let mut e = i + 1;
            while e < n {
                let ce = line[e];
                let comma_end = ce == ',' && {
                    let next = line.get(e + 1).copied();
                    next.is_none_or(|d| is_ws(d) || is_non_word(d))
                        || multi_char_at(line, e + 1).is_some()
                };
                if is_ws(ce) || is_non_word(ce) || multi_char_at(line, e).is_some() || comma_end {
                    break;
                }
                e += 1;
            }
            out.push(line[i..e].iter().collect());
            i = e;
            continue;
        }
        out.push(line[i].to_string());
        i += 1;
    }
    out
}

/// A Punkt token with its annotations.
#[derive(Debug)]
struct AugTok {
    tok: String,
    typ: String,
    period_final: bool,
    sentbreak: bool,
    abbr: bool,
    ellipsis: bool,
}

/// `^-?[\.,]?\d[\d,\.-]*\.?$`
fn is_numeric_token(tok: &str) -> bool {
    let mut c = tok.chars().peekable();
    if c.peek() == Some(&'-') {
        c.next();
    }
    if matches!(c.peek(), Some('.') | Some(',')) {
        c.next();
    }
    match c.next() {
        Some(d) if is_digit(d) => {}
        _ => return false,
    }
    // [\d,\.-]*\.? — the optional final period is covered by the class
    c.all(|x| is_digit(x) || matches!(x, ',' | '.' | '-'))
}

impl AugTok {
    fn new(tok: String) -> Self {
        let typ = if is_numeric_token(&tok) {
            "##number##".to_owned()
        } else {
            tok.to_lowercase()
        };
        let period_final = tok.ends_with('.');
        AugTok {
            tok,
            typ,
            period_final,
            sentbreak: false,
            abbr: false,
            ellipsis: false,
        }
    }

    fn type_no_period(&self) -> &str {
        if self.typ.chars().count() > 1 && self.typ.ends_with('.') {
            &self.typ[..self.typ.len() - 1]
        } else {
            &self.typ
        }
    }

    fn type_no_sentperiod(&self) -> &str {
        if self.sentbreak {
            self.type_no_period()
        } else {
            &self.typ
        }
    }

    fn first_char(&self) -> Option<char> {
        self.tok.chars().next()
    }

    fn first_upper(&self) -> bool {
        self.first_char().is_some_and(char::is_uppercase)
    }

    fn first_lower(&self) -> bool {
        self.first_char().is_some_and(char::is_lowercase)
    }

    /// `\.\.+$` from the start: the token is two or more periods.
    fn is_ellipsis(&self) -> bool {
        self.tok.len() >= 2 && self.tok.chars().all(|c| c == '.')
    }

    /// `[^\W\d]\.$` from the start: one letter and a period.
    fn is_initial(&self) -> bool {
        let mut c = self.tok.chars();
        matches!((c.next(), c.next(), c.next()), (Some(a), Some('.'), None) if is_word_char(a) && !is_digit(a))
    }
}

/// Result of the orthographic heuristic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Starter {
    Yes,
    No,
    Unknown,
}

fn first_pass(t: &mut AugTok, p: &PunktParams) {
    if matches!(t.tok.as_str(), "." | "?" | "!") {
        t.sentbreak = true;
    } else if t.is_ellipsis() {
        t.ellipsis = true;
    } else if t.period_final && !t.tok.ends_with("..") {
        let stem = t.tok[..t.tok.len() - 1].to_lowercase();
        let last_part = stem.rsplit('-').next().unwrap_or("");
        if p.abbrev_types.contains(stem.as_str()) || p.abbrev_types.contains(last_part) {
            t.abbr = true;
        } else {
            t.sentbreak = true;
        }
    }
}

fn ortho_heuristic(t: &AugTok, p: &PunktParams) -> Starter {
    // sentences don't start with punctuation (NLTK's `PUNCTUATION`)
    if matches!(t.tok.as_str(), ";" | ":" | "," | "." | "!" | "?") {
        return Starter::No;
    }
    let o = p.ortho(t.type_no_sentperiod());
    // upper-case, seen lower-case, never upper-case sentence-internally: a starter
    if t.first_upper() && o.lower_seen() && !o.upper_mid_seen() {
        return Starter::Yes;
    }
    // lower-case, and seen upper-case or never seen lower-case at a sentence start: not one
    if t.first_lower() && (o.upper_seen() || !o.lower_beg_seen()) {
        return Starter::No;
    }
    Starter::Unknown
}

/// Decides about `t1` from its right neighbour `t2` (first-pass annotations only).
fn second_pass(t1: &mut AugTok, t2: &AugTok, p: &PunktParams) {
    if !t1.period_final {
        return;
    }
    let typ = t1.type_no_period().to_owned();
    let next_typ = t2.type_no_sentperiod();
    let is_initial = t1.is_initial();
    if p.is_collocation(&typ, next_typ) {
        t1.sentbreak = false;
        t1.abbr = true;
        return;
    }
    if (t1.abbr || t1.ellipsis) && !is_initial {
        if ortho_heuristic(t2, p) == Starter::Yes {
            t1.sentbreak = true;
            return;
        }
        if t2.first_upper() && p.sent_starters.contains(next_typ) {
            t1.sentbreak = true;
            return;
        }
    }
    if is_initial || typ == "##number##" {
        let starter = ortho_heuristic(t2, p);
        if starter == Starter::No {
            t1.sentbreak = false;
            t1.abbr = true;
            return;
        }
        if starter == Starter::Unknown
            && is_initial
            && t2.first_upper()
            && !p.ortho(next_typ).lower_seen()
        {
            t1.sentbreak = false;
            t1.abbr = true;
        }
    }
}

/// Whether a sentence break falls inside `context` (before its last token).
fn contains_sentbreak(context: &[char], p: &PunktParams) -> bool {
    let mut toks: Vec<AugTok> = context
        .split(|&c| c == '\n')
        .flat_map(punkt_words)
        .map(AugTok::new)
        .collect();
    for t in &mut toks {
        first_pass(t, p);
    }
    for i in 0..toks.len() {
        if i + 1 < toks.len() {
            let (head, tail) = toks.split_at_mut(i + 1);
            second_pass(&mut head[i], &tail[0], p);
        }
        if toks[i].sentbreak && i + 1 < toks.len() {
            return true;
        }
    }
    false
}

/// A candidate break: the period-context match `[start, end)` (ending after the
/// `.`/`?`/`!`), its context text, and where the next token starts if whitespace follows.
struct Candidate {
    end: usize,
    context_end: usize,
    start: usize,
    next_tok_start: Option<usize>,
}

/// Finds the next candidate at or after `pos` (the `_period_context_re` search).
fn next_candidate(c: &[char], mut pos: usize) -> Option<Candidate> {
    let n = c.len();
    while pos < n {
        if is_ws(c[pos]) {
            pos += 1;
            continue;
        }
        let run_end = (pos..n).find(|&j| is_ws(c[j])).unwrap_or(n);
        // greedy `\S*`: the last sentence-end char in the run whose lookahead holds
        for k in (pos..run_end).rev() {
            if !matches!(c[k], '.' | '?' | '!') {
                continue;
            }
            let j = k + 1;
            if j < n && is_non_word(c[j]) {
                return Some(Candidate {
                    start: pos,
                    end: j,
                    context_end: j + 1,
                    next_tok_start: None,
                });
            }
            if j < n && is_ws(c[j]) {
                let w = (j..n).find(|&x| !is_ws(c[x]));
                if let Some(w) = w {
                    let tok_end = (w..n).find(|&x| is_ws(c[x])).unwrap_or(n);
                    return Some(Candidate {
                        start: pos,
                        end: j,
                        context_end: tok_end,
                        next_tok_start: Some(w),
                    });
                }
            }
        }
        pos = run_end;
    }
    None
}

/// `["')\]}]+?(?:\s+|(?=--)|$)` matched at the start of `s`: returns (closing chars,
/// total match length).
fn realignment(s: &[char]) -> Option<(usize, usize)> {
    let mut m = 0;
    while m < s.len() && matches!(s[m], '"' | '\'' | ')' | ']' | '}') {
        m += 1;
        let rest = &s[m..];
        if rest.first().is_some_and(|&x| is_ws(x)) {
            let ws = rest.iter().take_while(|&&x| is_ws(x)).count();
            return Some((m, m + ws));
        }
        if rest.starts_with(&['-', '-']) || rest.is_empty() {
            return Some((m, m));
        }
    }
    None
}

/// Splits `text` into sentences like `nltk.sent_tokenize(text)` does with the Punkt
/// parameters `p` (NLTK's English model: [`PunktParams::english`]).
pub fn sent_tokenize(text: &str, p: &PunktParams) -> Vec<String> {
    let c: Vec<char> = text.chars().collect();
    // raw slices
    let mut slices = Vec::new();
    let mut last_break = 0;
    let mut pos = 0;
    while let Some(cand) = next_candidate(&c, pos) {
        if contains_sentbreak(&c[cand.start..cand.context_end], p) {
            slices.push((last_break, cand.end));
            last_break = cand.next_tok_start.unwrap_or(cand.end);
        }
        pos = cand.end;
    }
    let trimmed_len = c.len() - c.iter().rev().take_while(|&&x| is_ws(x)).count();
    slices.push((last_break, trimmed_len));

    // realign closing punctuation
    let mut out = Vec::new();
    let mut realign = 0;
    for (i, &(s1_start, s1_end)) in slices.iter().enumerate() {
        let s1_start = s1_start + realign;
        let emit = |out: &mut Vec<String>, a: usize, b: usize| {
            if a < b {
                out.push(c[a..b].iter().collect());
            }
        };
        match slices.get(i + 1) {
            None => emit(&mut out, s1_start, s1_end),
            Some(&(s2_start, s2_end)) => {
                let s2 = if s2_start < s2_end {
                    &c[s2_start..s2_end]
                } else {
                    &[][..]
                };
                if let Some((closing, total)) = realignment(s2) {
                    let end = s2_start + closing;
                    // NLTK yields this one even if empty; an empty sentence has no tokens
                    emit(&mut out, s1_start, end);
                    realign = total;
                } else {
                    realign = 0;
                    emit(&mut out, s1_start, s1_end);
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::punkt_params::tests::english;
    use super::*;

    fn sent_tokenize(text: &str) -> Vec<String> {
        super::sent_tokenize(text, english())
    }

    #[test]
    fn splits_plain_sentences_and_keeps_abbreviations() {
        assert_eq!(
            sent_tokenize(
                "The cat sat on the mat. Dr. Smith said \"hello\" (twice)... It can't be! The U.S. is big; isn't it? Yes."
            ),
            vec![
                "The cat sat on the mat.",
                "Dr. Smith said \"hello\" (twice)...",
                "It can't be!",
                "The U.S. is big; isn't it?",
                "Yes."
            ]
        );
    }

    #[test]
    fn closing_quote_moves_to_previous_sentence() {
        assert_eq!(
            sent_tokenize("He said \"Stop.\" Then he left."),
            vec!["He said \"Stop.\"", "Then he left."]
        );
    }

    #[test]
    fn punkt_word_tokens() {
        let w = |s: &str| punkt_words(&s.chars().collect::<Vec<_>>());
        assert_eq!(w("(twice)... It"), vec!["(", "twice", ")", "...", "It"]);
        assert_eq!(w("a, b,c isn't"), vec!["a", ",", "b,c", "isn", "'t"]);
        assert_eq!(w("x . . . y--z"), vec!["x", ". . .", "y", "--", "z"]);
    }

    #[test]
    fn numbers_and_initials() {
        assert!(is_numeric_token("1990."));
        assert!(is_numeric_token("-3,5"));
        assert!(!is_numeric_token("a1"));
        assert_eq!(
            sent_tokenize("It was J. Bach who wrote it."),
            vec!["It was J. Bach who wrote it."]
        );
        assert_eq!(
            sent_tokenize("Born in 1990. The end."),
            vec!["Born in 1990.", "The end."]
        );
    }

    #[test]
    fn empty_and_blank() {
        assert!(sent_tokenize("").is_empty());
        assert!(sent_tokenize("   ").is_empty());
    }
}
