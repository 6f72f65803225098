//! A fast HTTP origin for `bench/warm.sh`: answers every GET with 200 and
//! a body of `--size` bytes (default 100). Prints its port on stdout, then
//! serves until killed.

#![forbid(unsafe_code)]

use std::time::Duration;

use hotkeys_testkit::{Origin, Reply};

fn main() {
    let mut size = 100usize;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--size" => {
                size = args
                    .next()
                    .and_then(|s| s.parse().ok())
                    .expect("--size takes a number of bytes");
            }
            other => {
                eprintln!(
                    "usage: hotkeys-bench-origin [--size BYTES]  (unknown argument {other:?})"
                );
                std::process::exit(1);
            }
        }
    }
    let body = vec![b'v'; size];
    let origin = Origin::start(move |_| Reply::ok(body.clone()));
    println!("{}", origin.port());
    loop {
        std::thread::sleep(Duration::from_secs(3600));
    }
}
