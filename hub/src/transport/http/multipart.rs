//! `multipart/related` answers (PS3.18 8.6.1.2): a fresh random boundary per response, parts
//! streamed from the blob store so that a study is never held in memory.

use axum::body::{Body, Bytes};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use rand::RngCore;

use crate::domain::StoredFile;

/// Bytes read from a stored file at a time.
const CHUNK: usize = 1 << 20;

/// A boundary no part contains (32 random hex digits).
pub fn boundary() -> String {
    let mut bytes = [0u8; 16];
    rand::rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// The response's `Content-Type`: `multipart/related; type="<part type>"; boundary=<b>`.
fn content_type(part_type: &str, boundary: &str) -> HeaderValue {
    HeaderValue::from_str(&format!(
        "multipart/related; type=\"{part_type}\"; boundary={boundary}"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static("multipart/related"))
}

fn part_head(boundary: &str, content_type: &str) -> Vec<u8> {
    format!("--{boundary}\r\nContent-Type: {content_type}\r\n\r\n").into_bytes()
}

fn tail(boundary: &str) -> Vec<u8> {
    format!("--{boundary}--\r\n").into_bytes()
}

/// Parts held in memory (frames, bulk data), each with its content type.
pub fn parts(part_type: &str, parts: Vec<(String, Vec<u8>)>) -> Response {
    let b = boundary();
    let mut body = Vec::with_capacity(parts.iter().map(|(_, p)| p.len() + 128).sum());
    for (ct, bytes) in parts {
        body.extend(part_head(&b, &ct));
        body.extend(bytes);
        body.extend(b"\r\n");
    }
    body.extend(tail(&b));
    ([(header::CONTENT_TYPE, content_type(part_type, &b))], body).into_response()
}

/// Stored DICOM files, streamed one after another as `application/dicom` parts, byte for byte.
pub fn files(files: Vec<StoredFile>, transfer_syntaxes: Vec<String>) -> Response {
    let b = boundary();
    let header_value = content_type("application/dicom", &b);
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(4);
    tokio::spawn(async move {
        for (file, ts) in files.into_iter().zip(transfer_syntaxes) {
            let head = part_head(&b, &format!("application/dicom; transfer-syntax={ts}"));
            if tx.send(Ok(head.into())).await.is_err() {
                return;
            }
            if let Err(e) = send_file(&file, &tx).await {
                // The status is sent; the client sees a truncated body, the log says why.
                tracing::warn!("DICOMweb retrieve cut short: {e}");
                let _ = tx.send(Err(std::io::Error::other(e.to_string()))).await;
                return;
            }
            if tx.send(Ok(Bytes::from_static(b"\r\n"))).await.is_err() {
                return;
            }
        }
        let _ = tx.send(Ok(tail(&b).into())).await;
    });
    let body = Body::from_stream(tokio_stream::wrappers::ReceiverStream::new(rx));
    ([(header::CONTENT_TYPE, header_value)], body).into_response()
}

async fn send_file(
    file: &StoredFile,
    tx: &tokio::sync::mpsc::Sender<Result<Bytes, std::io::Error>>,
) -> crate::domain::Result<()> {
    let size = file.size().await?;
    let mut offset = 0u64;
    while offset < size {
        let data = file.read_range(offset, CHUNK).await?;
        if data.is_empty() {
            break;
        }
        offset += data.len() as u64;
        if tx.send(Ok(data.into())).await.is_err() {
            break;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn boundaries_differ_per_response() {
        assert_ne!(boundary(), boundary());
        assert_eq!(boundary().len(), 32);
    }
}
