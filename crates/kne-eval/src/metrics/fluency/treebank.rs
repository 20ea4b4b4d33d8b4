//! Word tokenisation of one sentence as NLTK's `NLTKWordTokenizer` (the improved Penn
//! Treebank tokenizer behind `nltk.word_tokenize`, NLTK 3.6.5) does it.
//!
//! The tokenizer is a fixed sequence of rewrite rules that pad punctuation with spaces,
//! then a whitespace split. Each rule below is one left-to-right, non-overlapping pass,
//! as a regex substitution would do it; the comment before each pass says what it does.

use super::punkt::{is_digit, is_word_char};

fn is_ws(c: char) -> bool {
    c.is_whitespace()
}

/// Surrounds every char matching `pred` with spaces.
fn pad_each(s: &[char], pred: impl Fn(char) -> bool) -> Vec<char> {
    let mut out = Vec::with_capacity(s.len() + 8);
    for &c in s {
        if pred(c) {
            out.extend([' ', c, ' ']);
        } else {
            out.push(c);
        }
    }
    out
}

/// Surrounds every maximal run of `ch` of length >= `min` with spaces.
fn pad_runs(s: &[char], ch: char, min: usize) -> Vec<char> {
    let mut out = Vec::with_capacity(s.len() + 8);
    let mut i = 0;
    while i < s.len() {
        if s[i] == ch {
            let run = s[i..].iter().take_while(|&&x| x == ch).count();
            if run >= min {
                out.push(' ');
            }
            out.extend(std::iter::repeat_n(ch, run));
            if run >= min {
                out.push(' ');
            }
            i += run;
        } else {
            out.push(s[i]);
            i += 1;
        }
    }
    out
}

/// Replaces non-overlapping occurrences of `pat` by ` pat ` (or by `with` if given).
fn replace_literal(s: &[char], pat: &[char], with: &[char]) -> Vec<char> {
    let mut out = Vec::with_capacity(s.len() + 8);
    let mut i = 0;
    while i < s.len() {
        if s[i..].starts_with(pat) {
            out.extend_from_slice(with);
            i += pat.len();
        } else {
            out.push(s[i]);
            i += 1;
        }
    }
    out
}

fn chars(s: &str) -> Vec<char> {
    s.chars().collect()
}

/// Starting quotes.
fn starting_quotes(s: Vec<char>) -> Vec<char> {
    // ([«“‘„]|[`]+) -> " \1 "
    let s = pad_each(&s, |c| matches!(c, '«' | '“' | '‘' | '„'));
    let s = pad_runs(&s, '`', 1);
    // ^" -> ``
    let s = if s.first() == Some(&'"') {
        [vec!['`', '`'], s[1..].to_vec()].concat()
    } else {
        s
    };
    // (``) -> " `` "
    let s = replace_literal(&s, &['`', '`'], &chars(" `` "));
    // ([ \(\[{<])("|'') -> "\1 `` "
    let mut out = Vec::with_capacity(s.len() + 8);
    let mut i = 0;
    while i < s.len() {
        let opener = matches!(s[i], ' ' | '(' | '[' | '{' | '<');
        let quote_len = match (s.get(i + 1), s.get(i + 2)) {
            (Some('"'), _) => 1,
            (Some('\''), Some('\'')) => 2,
            _ => 0,
        };
        if opener && quote_len > 0 {
            out.push(s[i]);
            out.extend(chars(" `` "));
            i += 1 + quote_len;
        } else {
            out.push(s[i]);
            i += 1;
        }
    }
    // (?i)(')(?!re|ve|ll|m|t|s|d|n)(\w)\b -> "\1 \2"
    let s = out;
    let mut out = Vec::with_capacity(s.len() + 8);
    let mut i = 0;
    while i < s.len() {
        if s[i] == '\'' && i + 1 < s.len() {
            let lower: String = s[i + 1..(i + 3).min(s.len())]
                .iter()
                .flat_map(|c| c.to_lowercase())
                .collect();
            let clitic = ["re", "ve", "ll", "m", "t", "s", "d", "n"]
                .iter()
                .any(|p| lower.starts_with(p));
            let w = s[i + 1];
            let boundary_after = s.get(i + 2).is_none_or(|&c| !is_word_char(c));
            if !clitic && is_word_char(w) && boundary_after {
                out.extend(['\'', ' ', w]);
                i += 2;
                continue;
            }
        }
        out.push(s[i]);
        i += 1;
    }
    out
}

/// Whether `tail` is `[\]\)}>"'»”’ ]*\s*` (returns the length of the class run).
fn closing_tail(tail: &[char]) -> Option<usize> {
    let run = tail
        .iter()
        .take_while(|&&c| {
            matches!(
                c,
                ']' | ')' | '}' | '>' | '"' | '\'' | '»' | '”' | '’' | ' '
            )
        })
        .count();
    tail[run..].iter().all(|&c| is_ws(c)).then_some(run)
}

/// Punctuation.
fn punctuation(s: Vec<char>) -> Vec<char> {
    // final period: ([^\.])(\.)([\]\)}>"'»”’ ]*)\s*$ -> "\1 \2 \3 "
    let mut s = s;
    if let Some(k) = s.iter().rposition(|&c| c == '.')
        && k >= 1
        && s[k - 1] != '.'
        && let Some(run) = closing_tail(&s[k + 1..])
    {
        let mut out = s[..k].to_vec();
        out.extend([' ', '.', ' ']);
        out.extend_from_slice(&s[k + 1..k + 1 + run]);
        out.push(' ');
        s = out;
    }
    // ([:,])([^\d]) -> " \1 \2"
    let mut out = Vec::with_capacity(s.len() + 8);
    let mut i = 0;
    while i < s.len() {
        if matches!(s[i], ':' | ',') && s.get(i + 1).is_some_and(|&d| !is_digit(d)) {
            out.extend([' ', s[i], ' ', s[i + 1]]);
            i += 2;
        } else {
            out.push(s[i]);
            i += 1;
        }
    }
    // ([:,])$ -> " \1 "   ($ also matches before a final newline)
    let n = out.len();
    let at = if n >= 1 && matches!(out[n - 1], ':' | ',') {
        Some(n - 1)
    } else if n >= 2 && out[n - 1] == '\n' && matches!(out[n - 2], ':' | ',') {
        Some(n - 2)
    } else {
        None
    };
    if let Some(at) = at {
        let p = out[at];
        out.splice(at..=at, [' ', p, ' ']);
    }
    // \.{2,} -> " \g<0> "
    let s = pad_runs(&out, '.', 2);
    // [;@#$%&] -> " \g<0> "
    let s = pad_each(&s, |c| matches!(c, ';' | '@' | '#' | '$' | '%' | '&'));
    // The second final-period rule ([^\.])(\.)([\]\)}>"']*)\s*$ cannot match after the
    // first one has run (its class is a subset), so it is omitted.
    // [?!] -> " \g<0> "
    let s = pad_each(&s, |c| matches!(c, '?' | '!'));
    // ([^'])' -> "\1 ' "
    let mut out = Vec::with_capacity(s.len() + 8);
    let mut i = 0;
    while i < s.len() {
        if s[i] != '\'' && s.get(i + 1) == Some(&'\'') && s.get(i + 2) == Some(&' ') {
            out.extend([s[i], ' ', '\'', ' ']);
            i += 3;
        } else {
            out.push(s[i]);
            i += 1;
        }
    }
    // [*] -> " \g<0> "
    pad_each(&out, |c| c == '*')
}

/// Ending quotes (applied after the text was padded with one space on each side).
fn ending_quotes(s: Vec<char>) -> Vec<char> {
    // ([»”’]) -> " \1 "
    let s = pad_each(&s, |c| matches!(c, '»' | '”' | '’'));
    // " -> " '' "
    let s = replace_literal(&s, &['"'], &chars(" '' "));
    // (\S)('') -> "\1 \2 "
    let mut out = Vec::with_capacity(s.len() + 8);
    let mut i = 0;
    while i < s.len() {
        if !is_ws(s[i]) && s.get(i + 1) == Some(&'\'') && s.get(i + 2) == Some(&'\'') {
            out.extend([s[i], ' ', '\'', '\'', ' ']);
            i += 3;
        } else {
            out.push(s[i]);
            i += 1;
        }
    }
    // ([^' ])('[sS]|'[mM]|'[dD]|') -> "\1 \2 "
    let s = split_clitics(&out, &["'s", "'S", "'m", "'M", "'d", "'D", "'"]);
    // ([^' ])('ll|'LL|'re|'RE|'ve|'VE|n't|N'T) -> "\1 \2 "
    split_clitics(
        &s,
        &["'ll", "'LL", "'re", "'RE", "'ve", "'VE", "n't", "N'T"],
    )
}

/// `([^' ])(clitic1|clitic2|...) ` -> `\1 \2 ` (alternatives tried in order).
fn split_clitics(s: &[char], clitics: &[&str]) -> Vec<char> {
    let clitics: Vec<Vec<char>> = clitics.iter().map(|c| chars(c)).collect();
    let mut out = Vec::with_capacity(s.len() + 8);
    let mut i = 0;
    'scan: while i < s.len() {
        if !matches!(s[i], '\'' | ' ') {
            for cl in &clitics {
                let end = i + 1 + cl.len();
                if s[i + 1..].starts_with(cl) && s.get(end) == Some(&' ') {
                    out.push(s[i]);
                    out.push(' ');
                    out.extend_from_slice(cl);
                    out.push(' ');
                    i = end + 1;
                    continue 'scan;
                }
            }
        }
        out.push(s[i]);
        i += 1;
    }
    out
}

fn eq_ignore_case(a: &[char], b: &str) -> bool {
    a.len() == b.chars().count()
        && a.iter()
            .zip(b.chars())
            .all(|(x, y)| x.to_lowercase().eq(y.to_lowercase()))
}

/// MacIntyre contractions: `(?i)\b(w1)(w2)\b` -> ` \1 \2 ` (`wanna` needs a following
/// whitespace, which the replacement consumes); then `(?i) ('t)(is|was)\b`.
fn contractions(s: Vec<char>) -> Vec<char> {
    const PAIRS: [(&str, &str); 7] = [
        ("can", "not"),
        ("d", "'ye"),
        ("gim", "me"),
        ("gon", "na"),
        ("got", "ta"),
        ("lem", "me"),
        ("more", "'n"),
    ];
    let mut s = s;
    for (w1, w2, needs_ws) in PAIRS
        .iter()
        .map(|&(a, b)| (a, b, false))
        .chain([("wan", "na", true)])
    {
        let (l1, l2) = (w1.len(), w2.chars().count());
        let mut out = Vec::with_capacity(s.len() + 8);
        let mut i = 0;
        while i < s.len() {
            let start_ok = i == 0 || !is_word_char(s[i - 1]);
            let end = i + l1 + l2;
            let hit = start_ok
                && end <= s.len()
                && eq_ignore_case(&s[i..i + l1], w1)
                && eq_ignore_case(&s[i + l1..end], w2)
                && if needs_ws {
                    s.get(end).is_some_and(|&c| is_ws(c))
                } else {
                    s.get(end).is_none_or(|&c| !is_word_char(c))
                };
            if hit {
                out.push(' ');
                out.extend_from_slice(&s[i..i + l1]);
                out.push(' ');
                out.extend_from_slice(&s[i + l1..end]);
                out.push(' ');
                i = end + usize::from(needs_ws);
            } else {
                out.push(s[i]);
                i += 1;
            }
        }
        s = out;
    }
    for w2 in ["is", "was"] {
        let l2 = w2.len();
        let mut out = Vec::with_capacity(s.len() + 8);
        let mut i = 0;
        while i < s.len() {
            let end = i + 3 + l2;
            let hit = s[i] == ' '
                && end <= s.len()
                && eq_ignore_case(&s[i + 1..i + 3], "'t")
                && eq_ignore_case(&s[i + 3..end], w2)
                && s.get(end).is_none_or(|&c| !is_word_char(c));
            if hit {
                out.push(' ');
                out.extend_from_slice(&s[i + 1..i + 3]);
                out.push(' ');
                out.extend_from_slice(&s[i + 3..end]);
                out.push(' ');
                i = end;
            } else {
                out.push(s[i]);
                i += 1;
            }
        }
        s = out;
    }
    s
}

/// Tokenises one sentence like `NLTKWordTokenizer().tokenize(sentence)` (NLTK 3.6.5,
/// parentheses not converted).
pub fn treebank_tokenize(sentence: &str) -> Vec<String> {
    let s = starting_quotes(chars(sentence));
    let s = punctuation(s);
    // parentheses and brackets
    let s = pad_each(&s, |c| {
        matches!(c, ']' | '[' | '(' | ')' | '{' | '}' | '<' | '>')
    });
    // double dashes
    let s = replace_literal(&s, &['-', '-'], &chars(" -- "));
    let mut padded = Vec::with_capacity(s.len() + 2);
    padded.push(' ');
    padded.extend(s);
    padded.push(' ');
    let s = ending_quotes(padded);
    let s = contractions(s);
    let s: String = s.into_iter().collect();
    s.split_whitespace().map(str::to_owned).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tok(s: &str) -> Vec<String> {
        treebank_tokenize(s)
    }

    #[test]
    fn nltk_doc_example() {
        // NLTK's own doctest sentence (one "sentence": only the final period is split)
        assert_eq!(
            tok(
                "Good muffins cost $3.88 (roughly 3,36 euros)\nin New York.  Please buy me\ntwo of them.\nThanks."
            ),
            vec![
                "Good", "muffins", "cost", "$", "3.88", "(", "roughly", "3,36", "euros", ")", "in",
                "New", "York.", "Please", "buy", "me", "two", "of", "them.", "Thanks", "."
            ]
        );
    }

    #[test]
    fn quotes_clitics_and_contractions() {
        assert_eq!(
            tok("\"Hello,\" she said."),
            vec!["``", "Hello", ",", "''", "she", "said", "."]
        );
        assert_eq!(
            tok("I can't, won't and cannot go."),
            vec![
                "I", "ca", "n't", ",", "wo", "n't", "and", "can", "not", "go", "."
            ]
        );
        assert_eq!(
            tok("It's John's dog; they'll see."),
            vec![
                "It", "'s", "John", "'s", "dog", ";", "they", "'ll", "see", "."
            ]
        );
        assert_eq!(
            tok("I wanna go -- now!"),
            vec!["I", "wan", "na", "go", "--", "now", "!"]
        );
        assert_eq!(
            tok("'Tis the dogs' toy..."),
            vec!["'T", "is", "the", "dogs", "'", "toy", "..."]
        );
    }

    #[test]
    fn colons_commas_and_numbers() {
        assert_eq!(
            tok("Ratio 3:1, time: 10:30, list: a,b"),
            vec![
                "Ratio", "3:1", ",", "time", ":", "10:30", ",", "list", ":", "a", ",", "b"
            ]
        );
        assert_eq!(
            tok("ends with a comma,"),
            vec!["ends", "with", "a", "comma", ","]
        );
    }
}
