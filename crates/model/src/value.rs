//! HAProxy's value syntaxes: times with units, sizes with suffixes.

/// Parses a HAProxy time (`10`, `250ms`, `30s`, `5m`, `2h`, `1d`, `100us`)
/// into units of `unit_ms` milliseconds (1 for ms, 1000 for s). A bare number
/// is in `bare_ms` milliseconds. Returns `None` for anything else or for a
/// time that is not a whole number of the target unit.
pub(crate) fn parse_time(word: &str, bare_ms: u64, unit_ms: u64) -> Option<i64> {
    let digits = word.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 {
        return None;
    }
    let number: u64 = word[..digits].parse().ok()?;
    let (num, den): (u64, u64) = match &word[digits..] {
        "" => (bare_ms, 1),
        "us" => (1, 1000),
        "ms" => (1, 1),
        "s" => (1000, 1),
        "m" => (60_000, 1),
        "h" => (3_600_000, 1),
        "d" => (86_400_000, 1),
        _ => return None,
    };
    let total = number.checked_mul(num)?;
    if total % den != 0 || (total / den) % unit_ms != 0 {
        return None;
    }
    i64::try_from(total / den / unit_ms).ok()
}

/// Writes a time held in units of `unit_ms` milliseconds, in the largest unit
/// that keeps it exact (`30000` ms -> `30s`; `1500` ms -> `1500ms`).
pub(crate) fn format_time(value: i64, unit_ms: u64) -> String {
    let ms = value.unsigned_abs() * unit_ms;
    for (suffix, size) in [
        ("d", 86_400_000),
        ("h", 3_600_000),
        ("m", 60_000),
        ("s", 1000),
    ] {
        if ms >= size && ms.is_multiple_of(size) {
            return format!("{}{suffix}", ms / size);
        }
    }
    format!("{ms}ms")
}

/// Parses a size: bytes, or a number with `k`, `m` or `g` (powers of 1024).
pub(crate) fn parse_size(word: &str) -> Option<i64> {
    let digits = word.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 {
        return None;
    }
    let number: i64 = word[..digits].parse().ok()?;
    let factor: i64 = match word[digits..].to_ascii_lowercase().as_str() {
        "" => 1,
        "k" => 1 << 10,
        "m" => 1 << 20,
        "g" => 1 << 30,
        _ => return None,
    };
    number.checked_mul(factor)
}

/// Writes a size as a plain number of bytes. Suffixes are never written:
/// several HAProxy 2.6 keywords (`tune.bufsize`, `tune.rcvbuf.*`, ...) read
/// their argument with `atol`, so `16k` would silently mean 16 bytes.
pub(crate) fn format_size(bytes: i64) -> String {
    bytes.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times() {
        assert_eq!(parse_time("30s", 1, 1), Some(30_000));
        assert_eq!(parse_time("30", 1, 1), Some(30));
        assert_eq!(parse_time("30", 1000, 1000), Some(30));
        assert_eq!(parse_time("2m", 1, 1000), Some(120));
        assert_eq!(parse_time("1500ms", 1, 1000), None);
        assert_eq!(parse_time("100us", 1, 1), None);
        assert_eq!(parse_time("1000us", 1, 1), Some(1));
        assert_eq!(parse_time("5x", 1, 1), None);
        assert_eq!(parse_time("s", 1, 1), None);
        assert_eq!(format_time(30_000, 1), "30s");
        assert_eq!(format_time(1500, 1), "1500ms");
        assert_eq!(format_time(120, 1000), "2m");
        assert_eq!(format_time(0, 1), "0ms");
        for v in [0, 1, 999, 1000, 61_000, 3_600_000, 86_400_000 * 3] {
            assert_eq!(parse_time(&format_time(v, 1), 1, 1), Some(v));
        }
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_size("16384"), Some(16384));
        assert_eq!(parse_size("1m"), Some(1 << 20));
        assert_eq!(parse_size("64K"), Some(64 << 10));
        assert_eq!(parse_size("1t"), None);
        assert_eq!(format_size(1 << 20), "1048576");
        assert_eq!(format_size(1500), "1500");
    }
}
