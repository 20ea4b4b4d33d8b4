//! A reader that checks one part of a split file while it streams: at the part's end, its
//! size and sha256. A bad part is so named by itself, before the assembled file's checksum
//! would fail without saying which. (A part that never ends is cut off by the reader of the
//! whole, `atomic::install_verified`.)

use std::io::{self, Read};

use sha2::{Digest as _, Sha256};

use crate::checksum::{Actual, Expected, Mismatch};

pub struct CheckedPart<R> {
    inner: R,
    /// The part, for errors (e.g. "part 2 of 4, pkg==1.0: member").
    what: String,
    expected: Expected,
    hasher: Sha256,
    size: u64,
}

impl<R: Read> CheckedPart<R> {
    pub fn new(inner: R, what: String, expected: Expected) -> Self {
        Self {
            inner,
            what,
            expected,
            hasher: Sha256::new(),
            size: 0,
        }
    }
}

impl<R: Read> Read for CheckedPart<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n == 0 {
            let actual = Actual {
                sha256: hex::encode(self.hasher.finalize_reset().as_slice()),
                size: self.size,
                truncated: false,
            };
            if !actual.matches(&self.expected) {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    Mismatch {
                        what: self.what.clone(),
                        expected: self.expected.clone(),
                        actual,
                    },
                ));
            }
            return Ok(0);
        }
        self.size += n as u64;
        self.hasher.update(&buf[..n]);
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checksum::digest_reader;

    fn expect(bytes: &[u8]) -> Expected {
        let a = digest_reader(&mut &bytes[..]).unwrap();
        Expected::new(&a.sha256, a.size).unwrap()
    }

    fn read_all(r: &mut dyn Read) -> io::Result<Vec<u8>> {
        let mut v = Vec::new();
        r.read_to_end(&mut v).map(|_| v)
    }

    #[test]
    fn passes_the_right_bytes_through() {
        let data = b"0123456789".repeat(1000);
        let mut r = CheckedPart::new(&data[..], "p".into(), expect(&data));
        assert_eq!(read_all(&mut r).unwrap(), data);
    }

    #[test]
    fn wrong_short_and_long_parts_are_named() {
        let data = b"0123456789".repeat(100);
        let exp = expect(&data);
        let mut bad = data.clone();
        bad[500] ^= 1;
        for (bytes, needle) in [
            (&bad[..], exp.sha256.as_str()),
            (&data[..999], "999 bytes"),
            (&b"x".repeat(1001)[..], "(1001 bytes)"),
        ] {
            let mut r = CheckedPart::new(bytes, "part 3 of 4".into(), exp.clone());
            let e = read_all(&mut r).unwrap_err().to_string();
            assert!(e.contains("part 3 of 4") && e.contains(needle), "{e}");
        }
    }
}
