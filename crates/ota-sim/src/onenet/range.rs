//! OneNET's `Range` rules for package downloads, as the seed states them (including the parts that
//! differ from RFC 7233):
//! - `bytes={start}-`: from start to the end; start ≥ len → start = 0.
//! - `bytes={start}-{end}`: end ≥ len → end = len-1; start > end → start = 0.
//! - `bytes=-{n}`: the last n bytes; n > len → the whole file.
//! - The `bytes=` prefix may be missing (OneNET's C SDK sends `0-4095`) and its case does not matter;
//!   spaces around `=`, `-` and the numbers are tolerated (the seed writes `bytes = 0 -`). Anything else
//!   (several ranges, `-0`, `--5`, non-digits, another unit) or no header gets the whole file.
//!
//! A part is answered 206 with `Content-Range: bytes a-b/len`; the whole file, including a range that
//! resolves to all of it (`bytes=0-`, `0-4095` of a smaller file), 200 without `Content-Range`.

/// The bytes to serve: `start..=end` of a file of `len` bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RangeAnswer {
    pub start: u64,
    pub end: u64,
    /// True when less than the whole file (206).
    pub partial: bool,
}

impl RangeAnswer {
    pub fn byte_count(&self) -> u64 {
        self.end - self.start + 1
    }

    pub fn content_range(&self, total: u64) -> String {
        format!("bytes {}-{}/{total}", self.start, self.end)
    }
}

fn whole(len: u64) -> RangeAnswer {
    RangeAnswer {
        start: 0,
        end: len.saturating_sub(1),
        partial: false,
    }
}

fn number(text: &str) -> Option<u64> {
    let text = text.trim();
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    // A number too large for u64 is past any file's end: the end rules apply to it.
    Some(text.parse().unwrap_or(u64::MAX))
}

/// Resolves a `Range` header against a file of `len` bytes (len ≥ 1; an empty file is "whole").
/// Pure: no I/O, never panics, always answers a range inside the file.
pub fn resolve_range(header: Option<&str>, len: u64) -> RangeAnswer {
    let Some(raw) = header else {
        return whole(len);
    };
    if len == 0 {
        return whole(len);
    }
    let mut spec = raw.trim();
    if let Some(rest) = spec
        .get(..5)
        .filter(|p| p.eq_ignore_ascii_case("bytes"))
        .map(|_| &spec[5..])
    {
        let rest = rest.trim_start();
        match rest.strip_prefix('=') {
            Some(after) => spec = after.trim(),
            None => return whole(len),
        }
    }
    // One range only; a list ("0-1,5-6") is not among OneNET's modes.
    if spec.contains(',') {
        return whole(len);
    }
    let Some((first, second)) = spec.split_once('-') else {
        return whole(len);
    };
    let (first, second) = (first.trim(), second.trim());
    let (start, end) = match (first.is_empty(), second.is_empty()) {
        // "-n": the last n bytes.
        (true, false) => {
            let Some(n) = number(second) else {
                return whole(len);
            };
            if n == 0 {
                return whole(len);
            }
            if n >= len {
                (0, len - 1)
            } else {
                (len - n, len - 1)
            }
        }
        // "a-": from a to the end.
        (false, true) => {
            let Some(mut start) = number(first) else {
                return whole(len);
            };
            if start >= len {
                start = 0;
            }
            (start, len - 1)
        }
        // "a-b".
        (false, false) => {
            let (Some(mut start), Some(mut end)) = (number(first), number(second)) else {
                return whole(len);
            };
            if end >= len {
                end = len - 1;
            }
            if start > end {
                start = 0;
            }
            (start, end)
        }
        (true, true) => return whole(len),
    };
    RangeAnswer {
        start,
        end,
        partial: !(start == 0 && end == len - 1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(header: &str, len: u64) -> (u64, u64, bool) {
        let s = resolve_range(Some(header), len);
        (s.start, s.end, s.partial)
    }

    #[test]
    fn the_seeds_examples() {
        assert_eq!(r("bytes=0-", 22), (0, 21, false));
        assert_eq!(r("bytes = 0 -", 22), (0, 21, false));
        assert_eq!(r("bytes=2-", 22), (2, 21, true));
        assert_eq!(r("bytes=0-99", 1000), (0, 99, true));
        assert_eq!(r("bytes=-100", 1000), (900, 999, true));
        assert_eq!(r("bytes = - 100", 1000), (900, 999, true));
    }

    #[test]
    fn the_seeds_clamping_rules() {
        assert_eq!(r("bytes=22-", 22), (0, 21, false), "start ≥ len → 0");
        assert_eq!(r("bytes=5-99", 22), (5, 21, true), "end ≥ len → len-1");
        assert_eq!(r("bytes=9-3", 22), (0, 3, true), "start > end → 0");
        assert_eq!(r("bytes=-100", 22), (0, 21, false), "-n beyond len → whole");
        assert_eq!(r("bytes=99999999999999999999999-", 22), (0, 21, false));
    }

    #[test]
    fn without_prefix_and_malformed() {
        assert_eq!(r("0-4095", 22), (0, 21, false));
        assert_eq!(r("4-7", 22), (4, 7, true));
        assert_eq!(r("items=0-1", 22), (0, 21, false));
        assert_eq!(r("bytes=a-b", 22), (0, 21, false));
        assert_eq!(r("bytes=0-1,4-5", 22), (0, 21, false));
        assert_eq!(r("bytes=-", 22), (0, 21, false));
        assert_eq!(r("", 22), (0, 21, false));
        assert_eq!(resolve_range(None, 22), whole(22));
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig {
            cases: 512,
            failure_persistence: None,
            ..Default::default()
        })]

        /// Any header, any length: never a panic, always a range inside the file.
        #[test]
        fn any_header_resolves_inside_the_file(
            header in "(bytes ?= ?)?-?[0-9 ]{0,22}-?[0-9 ]{0,22}|.{0,30}",
            len in 1u64..u64::MAX / 2,
        ) {
            let s = resolve_range(Some(&header), len);
            proptest::prop_assert!(s.start <= s.end && s.end < len);
            proptest::prop_assert_eq!(s.partial, !(s.start == 0 && s.end == len - 1));
        }
    }
}
