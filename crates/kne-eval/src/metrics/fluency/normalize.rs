//! The clean-up EasyEdit applies to generated text before measuring its fluency.

/// Cleans a decoded generation as EasyEdit's `generate_fast` does before the n-gram
/// entropy is computed: Unicode NFKD, then `"\n\n"` -> `" "`, then `<|endoftext|>` removed.
///
/// NFKD is approximated by the compatibility mappings that change word tokenisation of
/// English text: typographic spaces (U+00A0, U+2000–U+200A, U+202F, U+205F, U+3000) become
/// a plain space, `…` becomes `...`, `‥` `..`, `․` `.`, the Latin ligatures `ﬀ ﬁ ﬂ ﬃ ﬄ ﬅ ﬆ`
/// are spelled out, and full-width ASCII (U+FF01–U+FF5E) becomes ASCII. Canonical
/// decompositions (`é` -> `e` + U+0301) are not applied: they map every word to one word,
/// so they leave the n-gram counts, and hence the entropy, unchanged.
pub fn normalize_generated_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\u{00A0}' | '\u{2000}'..='\u{200A}' | '\u{202F}' | '\u{205F}' | '\u{3000}' => {
                out.push(' ')
            }
            '\u{2024}' => out.push('.'),
            '\u{2025}' => out.push_str(".."),
            '\u{2026}' => out.push_str("..."),
            '\u{FB00}' => out.push_str("ff"),
            '\u{FB01}' => out.push_str("fi"),
            '\u{FB02}' => out.push_str("fl"),
            '\u{FB03}' => out.push_str("ffi"),
            '\u{FB04}' => out.push_str("ffl"),
            '\u{FB05}' | '\u{FB06}' => out.push_str("st"),
            '\u{FF01}'..='\u{FF5E}' => {
                out.push(char::from_u32(c as u32 - 0xFF01 + 0x21).unwrap_or(c))
            }
            _ => out.push(c),
        }
    }
    out.replace("\n\n", " ").replace("<|endoftext|>", "")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn easyedit_cleanup() {
        assert_eq!(
            normalize_generated_text("a\n\nb\n\n\nc<|endoftext|>d"),
            "a b \ncd"
        );
        assert_eq!(
            normalize_generated_text("wait\u{2026} ﬁne\u{00A0}ＡＢ"),
            "wait... fine AB"
        );
    }
}
