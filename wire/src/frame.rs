//! Length-prefixed frames: a 4-byte big-endian length, then that many bytes.
//!
//! The length is checked against the reader's cap *before* any buffer is allocated, so a
//! peer announcing 4 GiB costs nothing. Writes go out in chunks below 32 KiB: a kernel vsock
//! bug corrupts larger single writes (docs/design.md, "Transports"), and the same code runs over
//! TCP and Unix sockets locally.

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use crate::error::WireError;

/// Largest single write handed to the transport.
pub const MAX_WRITE_CHUNK: usize = 32 * 1024 - 1;

/// Default cap for control frames (sealed state records are far smaller).
pub const DEFAULT_FRAME_CAP: u32 = 16 * 1024 * 1024;

/// Writes `payload` as one frame, in chunks below 32 KiB, and flushes.
pub async fn write_frame<W: AsyncWrite + Unpin>(
    writer: &mut W,
    payload: &[u8],
    cap: u32,
) -> Result<(), WireError> {
    let length = u32::try_from(payload.len())
        .ok()
        .filter(|l| *l <= cap)
        .ok_or(WireError::FrameTooLarge {
            length: payload.len() as u64,
            cap,
        })?;
    writer.write_all(&length.to_be_bytes()).await?;
    write_chunked(writer, payload).await?;
    writer.flush().await?;
    Ok(())
}

/// Writes all of `bytes` with no single write above [`MAX_WRITE_CHUNK`].
pub async fn write_chunked<W: AsyncWrite + Unpin>(
    writer: &mut W,
    bytes: &[u8],
) -> Result<(), WireError> {
    for chunk in bytes.chunks(MAX_WRITE_CHUNK) {
        writer.write_all(chunk).await?;
    }
    Ok(())
}

/// Reads one frame. `Ok(None)` when the peer closed cleanly between frames; a close inside a
/// frame is [`WireError::Truncated`].
pub async fn read_frame<R: AsyncRead + Unpin>(
    reader: &mut R,
    cap: u32,
) -> Result<Option<Vec<u8>>, WireError> {
    let mut header = [0u8; 4];
    let mut have = 0;
    while have < header.len() {
        let n = reader.read(&mut header[have..]).await?;
        if n == 0 {
            return if have == 0 {
                Ok(None)
            } else {
                Err(WireError::Truncated {
                    read: have,
                    expected: header.len(),
                })
            };
        }
        have += n;
    }
    let length = u32::from_be_bytes(header);
    if length > cap {
        return Err(WireError::FrameTooLarge {
            length: u64::from(length),
            cap,
        });
    }
    let expected = length as usize;
    let mut payload = vec![0u8; expected];
    let mut read = 0;
    while read < expected {
        let n = reader.read(&mut payload[read..]).await?;
        if n == 0 {
            return Err(WireError::Truncated { read, expected });
        }
        read += n;
    }
    Ok(Some(payload))
}
