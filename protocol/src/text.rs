//! Messages built without `core::fmt`.
//!
//! `format!` and `to_string()` on numbers pull `core::fmt` into the wasm:
//! `fmt::format`, `Formatter::pad_integral`, the integer `Display` impls,
//! more than a kilobyte for text the SDK only ever glues together. Every
//! message the SDK makes is literal text, other strings and whole numbers,
//! so [`text!`](crate::text!) joins strings and [`decimal`] writes numbers,
//! and nothing more: no widths, no precision, no `{:?}`, no floats.
//!
//! Each arity has its own small function so that a call site passes its
//! pieces as plain arguments; building an array of pieces at every call
//! site costs more code than `format!` did.

use alloc::string::String;

/// At most the first `max` bytes of `text`, cut at a character boundary:
/// how much of something unexpected a message quotes.
pub fn head(text: &str, max: usize) -> &str {
    let mut end = text.len().min(max);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// `n` in decimal, as `Display` writes it: no sign, no padding.
#[inline(always)] // so that every type shares the one `push_decimal`
pub fn decimal(n: impl Unsigned) -> String {
    let mut out = String::new();
    push_decimal(&mut out, n.widen());
    out
}

/// Appends `n` in decimal, as `Display` writes it: no sign, no padding.
/// (Recursion writes the most significant digit first; no buffer, no
/// bounds check, at most 20 calls deep.)
pub fn push_decimal(out: &mut String, n: u64) {
    if n >= 10 {
        push_decimal(out, n / 10);
    }
    out.push(char::from(b'0' + (n % 10) as u8));
}

/// The unsigned integers [`decimal`] takes.
pub trait Unsigned: Copy {
    fn widen(self) -> u64;
}

macro_rules! unsigned {
    ($($t:ty),*) => {
        $(impl Unsigned for $t {
            fn widen(self) -> u64 {
                self as u64
            }
        })*
    };
}

unsigned!(u8, u16, u32, u64, usize);

/// `text!("the message is ", decimal(bytes), " bytes")`: the pieces (each a
/// `&str`, a `String` or anything else that derefs to `str`), joined into a
/// new `String`. The fmt-free stand-in for `format!`; 2 to 5 pieces.
#[macro_export]
macro_rules! text {
    ($a:expr, $b:expr $(,)?) => {
        $crate::text::join2(&$a, &$b)
    };
    ($a:expr, $b:expr, $c:expr $(,)?) => {
        $crate::text::join3(&$a, &$b, &$c)
    };
    ($a:expr, $b:expr, $c:expr, $d:expr $(,)?) => {
        $crate::text::join4(&$a, &$b, &$c, &$d)
    };
    ($a:expr, $b:expr, $c:expr, $d:expr, $e:expr $(,)?) => {
        $crate::text::join5(&$a, &$b, &$c, &$d, &$e)
    };
}

/// `pieces`, one after the other. (`[&str]::concat` would do, but its
/// generic code is a kilobyte of the wasm.)
pub fn join(pieces: &[&str]) -> String {
    let mut out = String::with_capacity(pieces.iter().map(|piece| piece.len()).sum());
    for piece in pieces {
        out.push_str(piece);
    }
    out
}

// Never inlined: one copy of each, however many messages use it.

#[inline(never)]
pub fn join2(a: &str, b: &str) -> String {
    join(&[a, b])
}

#[inline(never)]
pub fn join3(a: &str, b: &str, c: &str) -> String {
    join(&[a, b, c])
}

#[inline(never)]
pub fn join4(a: &str, b: &str, c: &str, d: &str) -> String {
    join(&[a, b, c, d])
}

#[inline(never)]
pub fn join5(a: &str, b: &str, c: &str, d: &str, e: &str) -> String {
    join(&[a, b, c, d, e])
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    #[test]
    fn numbers_read_as_display_writes_them() {
        for n in [0, 1, 9, 10, 11, 99, 100, 101, 1006, 65_535, 4_294_967_295, 10_000_000_000, u64::MAX] {
            assert_eq!(decimal(n), n.to_string());
        }
        assert_eq!(decimal(0u8), "0");
        assert_eq!(decimal(u16::MAX), "65535");
        assert_eq!(decimal(u32::MAX), "4294967295");
        assert_eq!(decimal(usize::MAX), usize::MAX.to_string());
    }

    #[test]
    fn pieces_join_in_order() {
        let name = String::from("data");
        let reason = "bye";
        assert_eq!(text!("ws", "://x"), "ws://x");
        assert_eq!(text!("the `", name, "` data channel closed"), "the `data` data channel closed");
        assert_eq!(text!("(code ", decimal(1006u16), ": ", reason), "(code 1006: bye");
        assert_eq!(text!("(code ", decimal(1006u16), ": ", reason, ")"), "(code 1006: bye)");
        let empty = String::new();
        assert_eq!(text!("", "é", empty,), "é");
    }
}
