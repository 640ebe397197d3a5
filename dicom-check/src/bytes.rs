//! Random-access byte sources: a file on disk (read with positioned reads, never loaded whole)
//! or a buffer in memory (deflated data sets, fuzzing, tests).

use std::fs::File;
use std::io;
use std::sync::Arc;

/// Bytes that can be read at any offset from several threads at once.
pub trait ByteSource: Send + Sync {
    /// Total length in bytes.
    fn len(&self) -> u64;
    /// Whether the source holds no bytes.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Fills `buf` from `offset`; an error if the source ends first.
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<()>;

    /// Reads `len` bytes at `offset` into a new vector.
    fn read_vec(&self, offset: u64, len: usize) -> io::Result<Vec<u8>> {
        let mut v = vec![0; len];
        self.read_at(offset, &mut v)?;
        Ok(v)
    }
}

/// A file read with `pread`, so frames of one object can be read by several rayon workers
/// without a shared cursor.
pub struct FileBytes {
    file: File,
    len: u64,
}

impl FileBytes {
    /// Opens `path` for positioned reads.
    pub fn open(path: &std::path::Path) -> io::Result<Self> {
        let file = File::open(path)?;
        let len = file.metadata()?.len();
        Ok(Self { file, len })
    }
}

impl ByteSource for FileBytes {
    fn len(&self) -> u64 {
        self.len
    }

    #[cfg(unix)]
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<()> {
        std::os::unix::fs::FileExt::read_exact_at(&self.file, buf, offset)
    }

    #[cfg(windows)]
    fn read_at(&self, mut offset: u64, mut buf: &mut [u8]) -> io::Result<()> {
        use std::os::windows::fs::FileExt;
        while !buf.is_empty() {
            let n = self.file.seek_read(buf, offset)?;
            if n == 0 {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
            buf = &mut buf[n..];
            offset += n as u64;
        }
        Ok(())
    }
}

/// Bytes held in memory.
pub struct MemBytes(
    /// The bytes.
    pub Arc<[u8]>,
);

impl ByteSource for MemBytes {
    fn len(&self) -> u64 {
        self.0.len() as u64
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<()> {
        let start = usize::try_from(offset).map_err(|_| io::ErrorKind::UnexpectedEof)?;
        let end = start
            .checked_add(buf.len())
            .filter(|&e| e <= self.0.len())
            .ok_or(io::ErrorKind::UnexpectedEof)?;
        buf.copy_from_slice(&self.0[start..end]);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mem_bytes_reads_inside_and_refuses_past_the_end() {
        let m = MemBytes(Arc::from(&b"abcdef"[..]));
        let mut b = [0u8; 3];
        m.read_at(2, &mut b).unwrap();
        assert_eq!(&b, b"cde");
        assert!(m.read_at(4, &mut b).is_err());
        assert!(m.read_at(u64::MAX, &mut b).is_err());
    }
}
