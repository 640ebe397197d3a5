//! The gRPC listener's connections: counted against [`ConnectionLimits`] before anything is read
//! from them, and closed when they stay silent for `grpc.idle_timeout`.
//!
//! The hub pings every connection over HTTP/2 three times per idle timeout ([`keepalive`]), so a live client (an idle
//! `reports --follow` included) always sends something back well within the idle timeout; a
//! socket that never sends the HTTP/2 preface, or a peer that stopped answering, is closed.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use futures::Stream;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio_io_timeout::TimeoutStream;
use tonic::transport::server::{Connected, TcpConnectInfo};

use super::limits::{Admitted, ConnectionLimits};
use crate::config::GrpcConfig;

/// How often the hub pings each HTTP/2 connection: three pings per idle timeout, so a live
/// client has answered several times before its connection could be taken for silent.
pub fn keepalive(config: &GrpcConfig) -> Duration {
    config.idle_timeout / 3
}

/// One admitted connection: its place under the limits is held until it closes.
pub struct Connection {
    io: Pin<Box<TimeoutStream<TcpStream>>>,
    info: TcpConnectInfo,
    _admitted: Admitted,
}

/// The connections `listener` accepts, as tonic's `serve_with_incoming` takes them; those over
/// the limits are closed at once (and logged).
pub fn incoming(
    listener: TcpListener,
    config: &GrpcConfig,
) -> impl Stream<Item = io::Result<Connection>> + Send + 'static {
    let limits = ConnectionLimits::new(config.max_connections, config.max_connections_per_ip);
    let idle = config.idle_timeout;
    futures::stream::unfold((listener, limits), move |(listener, limits)| async move {
        loop {
            let (socket, peer) = match listener.accept().await {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors and the like: back off rather than spin.
                    tracing::warn!("accepting a gRPC connection failed: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            };
            let admitted = match limits.admit(peer.ip()) {
                Ok(admitted) => admitted,
                Err(refused) => {
                    tracing::warn!(%peer, "gRPC connection closed at once: {refused} (grpc.*)");
                    continue;
                }
            };
            let _ = socket.set_nodelay(true);
            let connection = Connection::new(socket, admitted, idle);
            return Some((Ok(connection), (listener, limits)));
        }
    })
}

impl Connection {
    fn new(socket: TcpStream, admitted: Admitted, idle: Duration) -> Connection {
        let info = socket.connect_info();
        let mut io = TimeoutStream::new(socket);
        io.set_read_timeout(Some(idle));
        io.set_write_timeout(Some(idle));
        Connection {
            io: Box::pin(io),
            info,
            _admitted: admitted,
        }
    }
}

impl Connected for Connection {
    type ConnectInfo = TcpConnectInfo;

    fn connect_info(&self) -> TcpConnectInfo {
        self.info.clone()
    }
}

impl AsyncRead for Connection {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        self.io.as_mut().poll_read(cx, buf)
    }
}

impl AsyncWrite for Connection {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.io.as_mut().poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.io.as_mut().poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.io.as_mut().poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.io.as_mut().poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }
}
