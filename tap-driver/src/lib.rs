//! Live TAP driver for synack: runs the pure [`synack::Stack`] on a Linux TAP device and offers blocking,
//! `std::net`-shaped sockets over it.
//!
//! ```no_run
//! use synack_tap::{Driver, DriverConfig, UdpSocket};
//! let config = DriverConfig {
//!     stack: synack::Config { ipv4: "10.77.0.2/24".parse().unwrap(), ..Default::default() },
//!     ..Default::default()
//! };
//! let driver = Driver::open_tap("tap0", config)?; // needs CAP_NET_ADMIN
//! let sock = UdpSocket::bind(&driver.handle(), "0.0.0.0:7".parse().unwrap())?;
//! let mut buf = [0u8; 2048];
//! let (n, from) = sock.recv_from(&mut buf)?;
//! sock.send_to(&buf[..n], from)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! A driver thread owns the stack and the device: it sleeps in poll(2) until a frame arrives, a socket asks
//! for something, or the stack's next timer is due. Time given to the stack is nanoseconds since the driver
//! started. Optional: a pcapng capture, and seeded loss/duplication/reordering of live frames.
//!
//! Each call of a blocking socket is a round trip to the driver thread. A server with many short connections
//! can instead run inside that thread as an [`App`] ([`Handle::install`]): called on its sockets' events, with
//! the stack at hand, no thread per connection and no hand-off per call (`synack-tap`'s servers do).

pub mod app;
mod capture;
mod driver;
pub mod error;
mod handle;
pub mod impair;
pub mod link;
pub mod net;
pub mod offload;
pub mod probe;
pub mod resolve;
mod sys;
pub mod tap;

pub use app::{App, AppContext};
pub use error::TapError;
pub use handle::{Driver, DriverConfig, DriverReport, Handle};
pub use impair::{ImpairCounts, Impairments};
pub use link::{Link, PairLink};
pub use net::{TcpListener, TcpStream, UdpSocket};
pub use offload::OffloadTap;
pub use probe::AddressProbe;
pub use resolve::{resolve, resolve_family, Resolution};
pub use tap::TapDevice;
