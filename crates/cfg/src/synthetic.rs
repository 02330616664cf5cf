//! A generator of large, valid configurations for benchmarks: `backends`
//! backends of `servers` servers each, and one frontend with a `use_backend`
//! rule per backend. 10,000 x 10 gives about 140k lines.

use std::fmt::Write;

/// Builds the configuration text. It passes `haproxy -c`.
pub fn synthetic_config(backends: usize, servers: usize) -> String {
    let mut out = String::with_capacity(backends * (servers * 48 + 90) + 512);
    out.push_str(concat!(
        "# _version=1\n",
        "global\n",
        "    maxconn 100000\n",
        "\n",
        "defaults\n",
        "    mode http\n",
        "    timeout connect 5s\n",
        "    timeout client 30s\n",
        "    timeout server 30s\n",
        "\n",
        "frontend fe_main\n",
        "    bind 127.0.0.1:8080\n",
    ));
    for b in 0..backends {
        let _ = writeln!(out, "    use_backend be_{b} if {{ path_beg /app{b}/ }}");
    }
    out.push_str("    default_backend be_0\n");
    for b in 0..backends {
        let _ = write!(
            out,
            "\n# backend {b}\nbackend be_{b}\n    balance roundrobin\n"
        );
        for s in 0..servers {
            let n = b * servers + s;
            let _ = writeln!(
                out,
                "    server srv{s} 10.{}.{}.{}:8080 check inter 2s weight 10 maxconn 500",
                (n >> 16) & 255,
                (n >> 8) & 255,
                n & 255
            );
        }
    }
    out
}

/// A configuration for bulk writes: one backend `big` of `servers`
/// servers and a frontend `f` with `rules` `http-request set-header`
/// rules. It passes `haproxy -c`.
pub fn synthetic_bulk_config(servers: usize, rules: usize) -> String {
    let mut out = String::from(concat!(
        "global\n",
        "    maxconn 100\n",
        "\n",
        "defaults\n",
        "    mode http\n",
        "    timeout client 1s\n",
        "    timeout server 1s\n",
        "    timeout connect 1s\n",
        "\n",
        "frontend f\n",
        "    bind 127.0.0.1:18877\n",
        "    default_backend big\n",
    ));
    for i in 0..rules {
        let _ = writeln!(
            out,
            "    http-request set-header X-R{i} v{i} if {{ path_beg /p{i} }}"
        );
    }
    out.push_str("\nbackend big\n");
    for i in 0..servers {
        let _ = writeln!(
            out,
            "    server s{i} 127.0.{}.{}:8080 check inter 2s weight 10 maxconn 500",
            i / 250,
            i % 250 + 1
        );
    }
    out
}

/// The sizes a benchmark runs at: `--sizes 1000,5000` among `args`, else
/// `default`. Panics on what is not a list of numbers.
pub fn bench_sizes(args: &[String], default: &[usize]) -> Vec<usize> {
    args.iter()
        .position(|a| a == "--sizes")
        .and_then(|i| args.get(i + 1))
        .map_or_else(
            || default.to_vec(),
            |s| {
                s.split(',')
                    .map(|n| n.parse().expect("--sizes takes numbers"))
                    .collect()
            },
        )
}
