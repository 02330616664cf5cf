//! Records when the binary was built, for `/v3/info`: `SOURCE_DATE_EPOCH`
//! when set (reproducible builds), else now; RFC 3339, UTC.

fn main() {
    println!("cargo:rerun-if-env-changed=SOURCE_DATE_EPOCH");
    println!("cargo:rerun-if-changed=src");
    let epoch = std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|s| s.trim().parse::<i64>().ok());
    let when = match epoch.map(time::OffsetDateTime::from_unix_timestamp) {
        Some(Ok(t)) => t,
        _ => time::OffsetDateTime::now_utc(),
    };
    let when = when.replace_nanosecond(0).unwrap_or(when);
    let text = when
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
    println!("cargo:rustc-env=HAPLANE_BUILD_DATE={text}");
}
