//! Where a value sits in a receiver's answer however the receiver escaped it: JSON and
//! JavaScript escapes of any style (Go's `\u0026`, .NET's upper-case `\u002B`, Python's
//! `\u00e9`, PHP's `\/`), HTML character references (`&#34;`, `&#x27;`, `&amp;`) and
//! percent-encoding, one character at a time, in any mix. The answer is decoded once per family
//! with a map from each decoded byte back to the text it came from, the value is searched in
//! the decoded text, and the spans of the original answer that hold it are returned.

use std::ops::Range;

/// The spans of `text` that hold one of `values` in any of the escaped forms above, sorted and
/// merged.
pub fn spans(text: &str, values: &[&str]) -> Vec<Range<usize>> {
    let mut found = Vec::new();
    for family in [
        Family::Escapes,
        Family::Percent { plus_is_space: true },
        Family::Percent { plus_is_space: false },
    ] {
        // Most answers are short and plain: a family none of whose marks occur decodes to the
        // text itself, where the caller's plain search finds the value.
        let marks: &[char] = match family {
            Family::Escapes => &['\\', '&'],
            Family::Percent { .. } => &['%', '+'],
        };
        if !text.contains(marks) {
            continue;
        }
        let decoded = Decoded::of(text, family);
        for value in values.iter().filter(|v| !v.is_empty()) {
            for (at, _) in decoded.text.match_indices(value) {
                found.push(decoded.origin[at].start..decoded.origin[at + value.len() - 1].end);
            }
        }
    }
    found.sort_by_key(|span| span.start);
    let mut merged: Vec<Range<usize>> = Vec::with_capacity(found.len());
    for span in found {
        match merged.last_mut() {
            Some(last) if span.start <= last.end => last.end = last.end.max(span.end),
            _ => merged.push(span),
        }
    }
    merged
}

#[derive(Clone, Copy)]
enum Family {
    /// Backslash escapes (JSON, JavaScript, Python) and HTML character references.
    Escapes,
    /// `%HH` sequences (UTF-8), and `+` as a space in form encoding.
    Percent { plus_is_space: bool },
}

/// Text decoded one family deep, and for each of its bytes the span of the original it came from.
struct Decoded {
    text: String,
    origin: Vec<Range<usize>>,
}

impl Decoded {
    fn of(text: &str, family: Family) -> Self {
        let mut out = Self { text: String::with_capacity(text.len()), origin: Vec::new() };
        let mut at = 0;
        while at < text.len() {
            let unit = match family {
                Family::Escapes => backslash(&text[at..]).or_else(|| reference(&text[at..])),
                Family::Percent { plus_is_space } => percent(&text[at..], plus_is_space),
            };
            let (c, used) = unit.unwrap_or_else(|| {
                let c = text[at..].chars().next().expect("at is inside the text");
                (c, c.len_utf8())
            });
            out.push(c, at..at + used);
            at += used;
        }
        out
    }

    fn push(&mut self, c: char, from: Range<usize>) {
        self.text.push(c);
        self.origin.extend(std::iter::repeat_n(from, c.len_utf8()));
    }
}

/// A backslash escape at the start of `s`: the character and the bytes it takes.
fn backslash(s: &str) -> Option<(char, usize)> {
    let rest = s.strip_prefix('\\')?;
    let simple = match rest.as_bytes().first()? {
        b'"' => '"',
        b'\'' => '\'',
        b'\\' => '\\',
        b'/' => '/',
        b'n' => '\n',
        b't' => '\t',
        b'r' => '\r',
        b'b' => '\u{8}',
        b'f' => '\u{c}',
        b'x' => return hex(rest.get(1..3)?).and_then(char::from_u32).map(|c| (c, 4)),
        b'u' => return unicode(rest),
        _ => return None,
    };
    Some((simple, 2))
}

/// `\uXXXX` (after the backslash), a surrogate pair as one character.
fn unicode(rest: &str) -> Option<(char, usize)> {
    let unit = hex(rest.get(1..5)?)?;
    if let Some(c) = char::from_u32(unit) {
        return Some((c, 6));
    }
    let low = hex(rest.get(5..11)?.strip_prefix("\\u")?)?;
    let c = char::decode_utf16([unit as u16, low as u16]).next()?.ok()?;
    Some((c, 12))
}

/// An HTML character reference at the start of `s`: `&#34;`, `&#x27;`, `&amp;`.
fn reference(s: &str) -> Option<(char, usize)> {
    if !s.starts_with('&') {
        return None;
    }
    // The longest reference read here is `&#x10FFFF;` or `&#1114111;`.
    let end = s.bytes().take(12).position(|b| b == b';')?;
    let body = &s[1..end];
    let c = if let Some(code) = body.strip_prefix("#x").or_else(|| body.strip_prefix("#X")) {
        char::from_u32(hex(code)?)?
    } else if let Some(code) = body.strip_prefix('#') {
        char::from_u32(code.parse().ok()?)?
    } else {
        match body {
            "amp" => '&',
            "lt" => '<',
            "gt" => '>',
            "quot" => '"',
            "apos" => '\'',
            "sol" => '/',
            "plus" => '+',
            "nbsp" => '\u{a0}',
            _ => return None,
        }
    };
    Some((c, end + 1))
}

/// A percent-encoded character at the start of `s` (its UTF-8 bytes as `%HH` each), or `+`.
fn percent(s: &str, plus_is_space: bool) -> Option<(char, usize)> {
    if plus_is_space && s.starts_with('+') {
        return Some((' ', 1));
    }
    let first = byte(s)?;
    let width = match first {
        0x00..=0x7f => 1,
        0xc0..=0xdf => 2,
        0xe0..=0xef => 3,
        0xf0..=0xf7 => 4,
        _ => return None,
    };
    let mut bytes = vec![first];
    for i in 1..width {
        bytes.push(byte(s.get(i * 3..)?)?);
    }
    let c = std::str::from_utf8(&bytes).ok()?.chars().next()?;
    Some((c, width * 3))
}

fn byte(s: &str) -> Option<u8> {
    hex(s.strip_prefix('%')?.get(..2)?).map(|b| b as u8)
}

/// Hex digits of either case, all of `digits`.
fn hex(digits: &str) -> Option<u32> {
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    u32::from_str_radix(digits, 16).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const VALUE: &str = "a+b&c<d>e'f\"g/h é";

    fn masked(text: &str) -> bool {
        let found = spans(text, &[VALUE]);
        found.len() == 1 && text[found[0].clone()].len() >= VALUE.len() - 2
    }

    #[test]
    fn go_encoding_json_escapes_are_found() {
        assert!(masked(r#"{"v":"a+b\u0026c\u003cd\u003ee'f\"g/h é"}"#));
    }

    #[test]
    fn dotnet_system_text_json_escapes_are_found() {
        assert!(masked(r#"{"v":"a\u002Bb\u0026c\u003Cd\u003Ee\u0027f\u0022g/h \u00E9"}"#));
    }

    #[test]
    fn html_character_references_are_found() {
        assert!(masked("<p>a+b&amp;c&lt;d&gt;e&#39;f&#34;g/h é</p>"));
        assert!(masked("<p>a&#x2B;b&amp;c&#x3C;d&#X3e;e&#x27;f&quot;g&#47;h &#233;</p>"));
    }

    #[test]
    fn percent_encoding_of_either_case_and_form_spaces_are_found() {
        assert!(masked("v=a%2Bb%26c%3Cd%3Ee%27f%22g%2Fh+%C3%A9&x=1"));
        assert!(masked("v=a%2bb%26c%3cd%3ee'f%22g/h%20%c3%a9"));
    }

    #[test]
    fn a_surrogate_pair_is_one_character() {
        let found = spans(r#""x\ud83d\ude00y""#, &["x😀y"]);
        assert_eq!(found, vec![1..15]);
    }

    #[test]
    fn text_without_the_value_has_no_span() {
        assert!(spans(r#"{"ok":true,"note":"\u0026amp; 100%"}"#, &[VALUE]).is_empty());
        assert!(spans("&#99999999999; \\uZZZZ %zz", &["x"]).is_empty());
    }
}
