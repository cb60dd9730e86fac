//! A TCP echo client on a live TAP device: connects, sends a message, prints what comes back.
//!
//! Against a synack echo server on another TAP device, both joined by a Linux bridge inside a namespace:
//! ```sh
//! ip netns add demo
//! ip -n demo link add br0 type bridge && ip -n demo link set br0 up
//! ip -n demo tuntap add dev tap0 mode tap && ip -n demo tuntap add dev tap1 mode tap
//! for t in tap0 tap1; do ip -n demo link set $t master br0 && ip -n demo link set $t up; done
//! ip netns exec demo cargo run -p synack-tap --example echo_server -- --tap tap0 --ip 10.77.0.2/24 &
//! ip netns exec demo cargo run -p synack-tap --example echo_client -- --tap tap1 --ip 10.77.0.3/24 \
//!     --connect 10.77.0.2:7 "hello from one synack to another"
//! ```

use clap::Parser;
use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr};
use std::time::Duration;
use synack_tap::{Driver, DriverConfig, TcpStream};

#[derive(Parser, Debug)]
struct Args {
    #[arg(long, default_value = "tap1")]
    tap: String,
    #[arg(long, default_value = "10.77.0.3/24")]
    ip: synack::Ipv4Cidr,
    #[arg(long, default_value = "10.77.0.2:7")]
    connect: SocketAddr,
    #[arg(default_value = "hello, echo")]
    message: String,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    let o = args.ip.addr().octets();
    let stack = synack::Config {
        ipv4: args.ip,
        mac: synack::wire::EthernetAddress([0x02, 0, o[0], o[1], o[2], o[3]]),
        seed: u64::from(u32::from(args.ip.addr())),
        ..synack::Config::default()
    };
    let driver = Driver::open_tap(&args.tap, DriverConfig { stack, ..DriverConfig::default() })?;
    let mut stream = TcpStream::connect_timeout(&driver.handle(), args.connect, Duration::from_secs(10))?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    stream.write_all(args.message.as_bytes())?;
    stream.shutdown(Shutdown::Write)?;
    let mut back = String::new();
    stream.read_to_string(&mut back)?;
    println!("{back}");
    drop(stream);
    eprint!("{}", driver.stop());
    Ok(())
}
