//! A loopback TCP proxy in front of a peer, through which the suite cuts, stalls or slows
//! that peer without touching it (OpenBao's dev server and moto keep their data only in
//! memory, so stopping them for real would also wipe what the platform stored).

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

/// What the proxy does with traffic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Forwards both ways.
    Pass,
    /// Closes new connections at once and cuts the open ones: the peer is down.
    Refuse,
    /// Accepts connections but forwards nothing, either way, until the mode changes: the
    /// peer is unreachable (a partition), so clients wait for their own timeouts.
    Blackhole,
    /// Forwards, each chunk from the peer held back this long: the peer answers slowly.
    Slow(Duration),
}

pub struct FaultProxy {
    pub addr: SocketAddr,
    mode: watch::Sender<Mode>,
}

impl FaultProxy {
    pub async fn start(target: SocketAddr) -> anyhow::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let (mode, watching) = watch::channel(Mode::Pass);
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                tokio::spawn(connection(client, target, watching.clone()));
            }
        });
        Ok(Self { addr, mode })
    }

    pub fn set(&self, mode: Mode) {
        self.mode.send_replace(mode);
    }
}

/// Waits out a blackhole; the mode traffic may then flow in, or `None` to drop the
/// connection (refused, or the proxy gone).
async fn passable(mode: &mut watch::Receiver<Mode>) -> Option<Mode> {
    loop {
        match *mode.borrow_and_update() {
            Mode::Refuse => return None,
            Mode::Blackhole => {}
            flowing => return Some(flowing),
        }
        mode.changed().await.ok()?;
    }
}

async fn connection(client: TcpStream, target: SocketAddr, mut mode: watch::Receiver<Mode>) {
    if passable(&mut mode).await.is_none() {
        return;
    }
    let Ok(upstream) = TcpStream::connect(target).await else {
        return;
    };
    let _ = client.set_nodelay(true);
    let _ = upstream.set_nodelay(true);
    let (client_read, client_write) = client.into_split();
    let (upstream_read, upstream_write) = upstream.into_split();
    let outbound = pump(client_read, upstream_write, mode.clone(), false);
    let inbound = pump(upstream_read, client_write, mode, true);
    // Either direction ending (or a Refuse) ends the connection.
    tokio::select! {
        _ = outbound => {}
        _ = inbound => {}
    }
}

/// Copies one direction, obeying the mode before each chunk.
async fn pump(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    mut mode: watch::Receiver<Mode>,
    from_peer: bool,
) {
    let mut buffer = vec![0u8; 16 * 1024];
    loop {
        let n = tokio::select! {
            read = from.read(&mut buffer) => match read {
                Ok(0) | Err(_) => return,
                Ok(n) => n,
            },
            changed = mode.changed() => {
                if changed.is_err() || *mode.borrow() == Mode::Refuse {
                    return;
                }
                continue;
            }
        };
        match passable(&mut mode).await {
            None => return,
            Some(Mode::Slow(delay)) if from_peer => tokio::time::sleep(delay).await,
            Some(_) => {}
        }
        if to.write_all(&buffer[..n]).await.is_err() {
            return;
        }
    }
}
