//! A bounds-checked little-endian cursor over the file bytes.
//!
//! Every read checks the remaining length first, so a truncated or lying file turns into a
//! [`GgufError::Truncated`] instead of a panic, and no length read from the file is trusted
//! before it has been compared with the bytes that are actually there.

use super::GgufError;

pub(crate) struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(bytes: &'a [u8]) -> Self {
        Self { bytes, pos: 0 }
    }

    /// Current offset from the start of the file.
    pub(crate) fn pos(&self) -> usize {
        self.pos
    }

    /// Bytes left after the current offset.
    pub(crate) fn remaining(&self) -> u64 {
        (self.bytes.len() - self.pos) as u64
    }

    /// Total file length.
    pub(crate) fn len(&self) -> u64 {
        self.bytes.len() as u64
    }

    /// The next `n` bytes; `what` names the item for the error message.
    pub(crate) fn take(&mut self, n: u64, what: &str) -> Result<&'a [u8], GgufError> {
        if n > self.remaining() {
            return Err(GgufError::Truncated {
                what: what.to_owned(),
                offset: self.pos as u64,
                needed: n,
                len: self.len(),
            });
        }
        // n <= remaining <= usize::MAX, so the cast is lossless.
        let start = self.pos;
        self.pos += n as usize;
        Ok(&self.bytes[start..self.pos])
    }

    fn array<const N: usize>(&mut self, what: &str) -> Result<[u8; N], GgufError> {
        let slice = self.take(N as u64, what)?;
        let mut out = [0u8; N];
        out.copy_from_slice(slice);
        Ok(out)
    }

    pub(crate) fn u8(&mut self, what: &str) -> Result<u8, GgufError> {
        Ok(self.array::<1>(what)?[0])
    }
    pub(crate) fn i8(&mut self, what: &str) -> Result<i8, GgufError> {
        Ok(i8::from_le_bytes(self.array(what)?))
    }
    pub(crate) fn u16(&mut self, what: &str) -> Result<u16, GgufError> {
        Ok(u16::from_le_bytes(self.array(what)?))
    }
    pub(crate) fn i16(&mut self, what: &str) -> Result<i16, GgufError> {
        Ok(i16::from_le_bytes(self.array(what)?))
    }
    pub(crate) fn u32(&mut self, what: &str) -> Result<u32, GgufError> {
        Ok(u32::from_le_bytes(self.array(what)?))
    }
    pub(crate) fn i32(&mut self, what: &str) -> Result<i32, GgufError> {
        Ok(i32::from_le_bytes(self.array(what)?))
    }
    pub(crate) fn u64(&mut self, what: &str) -> Result<u64, GgufError> {
        Ok(u64::from_le_bytes(self.array(what)?))
    }
    pub(crate) fn i64(&mut self, what: &str) -> Result<i64, GgufError> {
        Ok(i64::from_le_bytes(self.array(what)?))
    }
    pub(crate) fn f32(&mut self, what: &str) -> Result<f32, GgufError> {
        Ok(f32::from_le_bytes(self.array(what)?))
    }
    pub(crate) fn f64(&mut self, what: &str) -> Result<f64, GgufError> {
        Ok(f64::from_le_bytes(self.array(what)?))
    }
    /// A GGUF bool is one byte; like ggml, any non-zero byte is true.
    pub(crate) fn bool(&mut self, what: &str) -> Result<bool, GgufError> {
        Ok(self.u8(what)? != 0)
    }

    /// A GGUF string: u64 byte length, then UTF-8 bytes (no terminator). The length is
    /// checked against the remaining bytes before anything is allocated.
    pub(crate) fn string(&mut self, what: &str) -> Result<String, GgufError> {
        let len = self.u64(what)?;
        let offset = self.pos as u64;
        let bytes = self.take(len, what)?;
        std::str::from_utf8(bytes)
            .map(str::to_owned)
            .map_err(|_| GgufError::InvalidUtf8 {
                what: what.to_owned(),
                offset,
            })
    }

    /// Fails unless `count` items of at least `min_size` bytes each could still fit in the
    /// file; callers use it before reserving memory for `count` items.
    pub(crate) fn check_count(
        &self,
        count: u64,
        min_size: u64,
        what: &str,
    ) -> Result<usize, GgufError> {
        let fits = count
            .checked_mul(min_size)
            .is_some_and(|total| total <= self.remaining());
        match usize::try_from(count) {
            Ok(n) if fits => Ok(n),
            _ => Err(GgufError::CountTooLarge {
                what: what.to_owned(),
                count,
                offset: self.pos as u64,
                remaining: self.remaining(),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_little_endian_and_stops_at_the_end() {
        let bytes = [1u8, 0, 0, 0, 0xff, 2, 0];
        let mut r = Reader::new(&bytes);
        assert_eq!(r.u32("a"), Ok(1));
        assert_eq!(r.i8("b"), Ok(-1));
        assert!(matches!(
            r.u32("c"),
            Err(GgufError::Truncated {
                offset: 5,
                needed: 4,
                ..
            })
        ));
        assert_eq!(r.u16("d"), Ok(2));
    }

    #[test]
    fn huge_string_length_is_an_error_without_allocation() {
        let mut bytes = (1u64 << 62).to_le_bytes().to_vec();
        bytes.extend_from_slice(b"abc");
        let mut r = Reader::new(&bytes);
        assert!(
            matches!(r.string("s"), Err(GgufError::Truncated { needed, .. }) if needed == 1 << 62)
        );
    }

    #[test]
    fn count_check_rejects_overflow() {
        let r = Reader::new(&[0u8; 16]);
        assert!(r.check_count(u64::MAX, 2, "x").is_err());
        assert!(r.check_count(5, 4, "x").is_err());
        assert_eq!(r.check_count(4, 4, "x"), Ok(4));
    }
}
