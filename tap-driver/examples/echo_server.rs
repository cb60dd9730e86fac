//! A TCP and UDP echo server on a live TAP device, written against the blocking socket API.
//!
//! ```sh
//! ip netns add demo
//! ip netns exec demo cargo run -p synack-tap --example echo_server -- --tap tap0 --ip 10.77.0.2/24 --port 7 &
//! ip -n demo addr add 10.77.0.1/24 dev tap0 && ip -n demo link set tap0 up
//! echo hello | ip netns exec demo nc -N 10.77.0.2 7          # TCP
//! echo hello | ip netns exec demo nc -u -w1 10.77.0.2 7      # UDP
//! ```
//! Ctrl-C stops it and prints the stack's counters.

use clap::Parser;
use std::io::{Read, Write};
use std::net::{Ipv4Addr, Shutdown, SocketAddr};
use synack_tap::{Driver, DriverConfig, TcpListener, TcpStream, UdpSocket};

#[derive(Parser, Debug)]
struct Args {
    #[arg(long, default_value = "tap0")]
    tap: String,
    #[arg(long, default_value = "10.77.0.2/24")]
    ip: synack::Ipv4Cidr,
    #[arg(long, default_value_t = 7)]
    port: u16,
}

fn echo(mut s: TcpStream) -> std::io::Result<u64> {
    let mut buf = [0u8; 16 * 1024];
    let mut total = 0;
    loop {
        let n = s.read(&mut buf)?;
        if n == 0 {
            s.shutdown(Shutdown::Write)?;
            return Ok(total);
        }
        s.write_all(&buf[..n])?;
        total += n as u64;
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    let o = args.ip.addr().octets();
    let stack = synack::Config {
        ipv4: args.ip,
        mac: synack::wire::EthernetAddress([0x02, 0, o[0], o[1], o[2], o[3]]),
        ..synack::Config::default()
    };
    let driver = Driver::open_tap(&args.tap, DriverConfig { stack, ..DriverConfig::default() })?;
    let handle = driver.handle();
    let any = SocketAddr::from((Ipv4Addr::UNSPECIFIED, args.port));

    let stopper = handle.clone();
    let mut signals = signal_hook::iterator::Signals::new([signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM])?;
    std::thread::spawn(move || {
        if signals.forever().next().is_some() {
            stopper.stop();
        }
    });

    let udp = UdpSocket::bind(&handle, any)?;
    std::thread::spawn(move || {
        let mut buf = [0u8; 2048];
        while let Ok((n, from)) = udp.recv_from(&mut buf) {
            let _ = udp.send_to(&buf[..n], from);
        }
    });

    let listener = TcpListener::bind(&handle, any)?;
    println!("echoing TCP and UDP on {}:{} (device {})", args.ip.addr(), args.port, args.tap);
    while let Ok((stream, peer)) = listener.accept() {
        std::thread::spawn(move || match echo(stream) {
            Ok(n) => println!("{peer}: echoed {n} bytes"),
            Err(e) => println!("{peer}: {e}"),
        });
    }
    println!("{}", driver.stop());
    Ok(())
}
