//! Saving streamed files (instances, artifacts, renders) without holding them in memory.

use std::path::{Component, Path, PathBuf};

use remotedx_proto::v1 as pb;
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;
use tonic::Streaming;

use crate::client::Hub;
use crate::error::CliError;

/// What was saved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Saved {
    /// Bytes written.
    pub size: u64,
    /// Lower-case hex SHA-256 of them.
    pub sha256: String,
}

/// Writes a chunk stream to `path` (`-` for standard output). The file appears under its name only
/// when complete: it is written to `<path>.part`, renamed at the end, and removed if the stream
/// breaks off.
pub async fn save(hub: &Hub, stream: Streaming<pb::Chunk>, path: &Path) -> Result<Saved, CliError> {
    if path == Path::new("-") {
        let mut sink = tokio::io::stdout();
        let saved = copy(hub, stream, &mut sink, CliError::Output).await?;
        sink.flush().await.map_err(CliError::Output)?;
        return Ok(saved);
    }
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        tokio::fs::create_dir_all(dir)
            .await
            .map_err(|e| CliError::file(dir, e))?;
    }
    let part = part_path(path);
    let mut file = tokio::fs::File::create(&part)
        .await
        .map_err(|e| CliError::file(&part, e))?;
    let result = copy(hub, stream, &mut file, |e| CliError::file(&part, e)).await;
    let result = match result {
        Ok(saved) => file
            .sync_all()
            .await
            .map(|()| saved)
            .map_err(|e| CliError::file(&part, e)),
        Err(e) => Err(e),
    };
    drop(file);
    match result {
        Ok(saved) => {
            tokio::fs::rename(&part, path)
                .await
                .map_err(|e| CliError::file(path, e))?;
            Ok(saved)
        }
        Err(e) => {
            let _ = tokio::fs::remove_file(&part).await;
            Err(e)
        }
    }
}

/// Copies the chunks into `sink`, hashing them.
async fn copy<W: tokio::io::AsyncWrite + Unpin>(
    hub: &Hub,
    mut stream: Streaming<pb::Chunk>,
    sink: &mut W,
    write_err: impl Fn(std::io::Error) -> CliError,
) -> Result<Saved, CliError> {
    let mut hasher = Sha256::new();
    let mut size = 0u64;
    while let Some(chunk) = stream.message().await.map_err(|s| hub.error(s))? {
        hasher.update(&chunk.data);
        size += chunk.data.len() as u64;
        sink.write_all(&chunk.data).await.map_err(&write_err)?;
    }
    Ok(Saved {
        size,
        sha256: hex::encode(hasher.finalize()),
    })
}

fn part_path(path: &Path) -> PathBuf {
    let mut name = path
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_default();
    name.push(".part");
    path.with_file_name(name)
}

/// A relative path under an output folder for a hub-given name such as `preview/<uid>.png`:
/// only normal components are kept and odd characters become `_`, so a name can never escape the
/// folder.
pub fn safe_relative(name: &str) -> PathBuf {
    let mut out = PathBuf::new();
    for part in Path::new(name).components() {
        if let Component::Normal(p) = part {
            let clean: String = p
                .to_string_lossy()
                .chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() || "._-".contains(c) {
                        c
                    } else {
                        '_'
                    }
                })
                .collect();
            if !clean.is_empty() && clean != "." && clean != ".." {
                out.push(clean);
            }
        }
    }
    if out.as_os_str().is_empty() {
        PathBuf::from("_")
    } else {
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hub_names_stay_inside_the_folder() {
        assert_eq!(
            safe_relative("preview/1.2.3.png"),
            PathBuf::from("preview/1.2.3.png")
        );
        assert_eq!(
            safe_relative("../../etc/passwd"),
            PathBuf::from("etc/passwd")
        );
        assert_eq!(safe_relative("/abs/x y.svg"), PathBuf::from("abs/x_y.svg"));
        assert_eq!(safe_relative(".."), PathBuf::from("_"));
        assert_eq!(
            part_path(Path::new("d/x.dcm")),
            PathBuf::from("d/x.dcm.part")
        );
    }
}
