//! What a PEM file holds: its certificates read with `x509-parser`, shown
//! in the words HAProxy's `show ssl cert` uses, so that a stored file and
//! the running one read alike.

use serde_json::{json, Map, Value};
use x509_parser::extensions::{GeneralName, ParsedExtension};
use x509_parser::pem::Pem;
use x509_parser::prelude::{FromDer, X509Certificate, X509Name};
use x509_parser::public_key::PublicKey;

/// The PEM blocks of a file, or why it is not PEM.
fn blocks(bytes: &[u8]) -> Result<Vec<Pem>, String> {
    let mut out = Vec::new();
    for block in Pem::iter_from_buffer(bytes) {
        match block {
            Ok(b) => out.push(b),
            Err(x509_parser::error::PEMError::MissingHeader) if !out.is_empty() => break,
            Err(e) => return Err(format!("not PEM: {e}")),
        }
    }
    Ok(out)
}

/// Refuses a file with no certificate or key, or with a block that does
/// not decode.
pub(crate) fn check_pem(bytes: &[u8]) -> Result<(), String> {
    let blocks = blocks(bytes)?;
    let mut useful = false;
    for block in &blocks {
        if block.label == "CERTIFICATE" {
            X509Certificate::from_der(&block.contents)
                .map_err(|e| format!("a certificate does not decode: {e}"))?;
            useful = true;
        } else if block.label.ends_with("PRIVATE KEY") {
            useful = true;
        }
    }
    if useful {
        Ok(())
    } else {
        Err("the file holds no certificate and no private key (-----BEGIN CERTIFICATE-----)".into())
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}

/// "/C=FR/O=HAProxy/CN=a.test", as HAProxy prints names.
fn name(name: &X509Name) -> String {
    let registry = x509_parser::objects::oid_registry();
    let mut out = String::new();
    for rdn in name.iter() {
        for attr in rdn.iter() {
            let key = x509_parser::objects::oid2abbrev(attr.attr_type(), registry)
                .map(str::to_owned)
                .unwrap_or_else(|_| attr.attr_type().to_id_string());
            let value = attr.as_str().unwrap_or_default();
            out.push_str(&format!("/{key}={value}"));
        }
    }
    out
}

fn date(t: x509_parser::time::ASN1Time) -> Option<String> {
    let d = time::OffsetDateTime::from_unix_timestamp(t.timestamp()).ok()?;
    Some(format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.000Z",
        d.year(),
        u8::from(d.month()),
        d.day(),
        d.hour(),
        d.minute(),
        d.second()
    ))
}

fn algorithm(cert: &X509Certificate) -> Option<String> {
    match cert.public_key().parsed().ok()? {
        PublicKey::RSA(rsa) => Some(format!("RSA{}", rsa.key_size())),
        // An uncompressed point: 0x04, then X and Y of the curve's size.
        PublicKey::EC(point) => Some(format!(
            "EC{}",
            (point.data().len().saturating_sub(1)) / 2 * 8
        )),
        PublicKey::DSA(_) => Some("DSA".into()),
        _ => None,
    }
}

/// The reference's `ssl_certificate` fields for the first certificate of
/// a PEM file (the chain is the next one), without `file` and
/// `storage_name`. Empty when the file holds no certificate.
pub fn details(bytes: &[u8]) -> Map<String, Value> {
    let mut out = Map::new();
    let Ok(blocks) = blocks(bytes) else {
        return out;
    };
    let mut certs = blocks
        .iter()
        .filter(|b| b.label == "CERTIFICATE")
        .filter_map(|b| {
            X509Certificate::from_der(&b.contents)
                .ok()
                .map(|(_, c)| (b, c))
        });
    let Some((block, cert)) = certs.next() else {
        return out;
    };
    let mut put = |key: &str, value: Option<String>| {
        if let Some(v) = value.filter(|v| !v.is_empty()) {
            out.insert(key.into(), json!(v));
        }
    };
    put("serial", Some(hex(cert.raw_serial())));
    put("subject", Some(name(cert.subject())));
    put("issuers", Some(name(cert.issuer())));
    put("not_before", date(cert.validity().not_before));
    put("not_after", date(cert.validity().not_after));
    put("algorithm", algorithm(&cert));
    let sha1 = ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, &block.contents);
    let sha256 = ring::digest::digest(&ring::digest::SHA256, &block.contents);
    put("sha1_finger_print", Some(hex(sha1.as_ref())));
    put("sha256_finger_print", Some(hex(sha256.as_ref())));
    let (mut dns, mut ips, mut san) = (Vec::new(), Vec::new(), Vec::new());
    for ext in cert.extensions() {
        match ext.parsed_extension() {
            ParsedExtension::SubjectAlternativeName(names) => {
                for n in &names.general_names {
                    match n {
                        GeneralName::DNSName(d) => {
                            dns.push(d.to_string());
                            san.push(format!("DNS:{d}"));
                        }
                        GeneralName::IPAddress(raw) => {
                            let ip = match raw.len() {
                                4 => <[u8; 4]>::try_from(*raw)
                                    .map(|a| std::net::IpAddr::from(a).to_string())
                                    .ok(),
                                16 => <[u8; 16]>::try_from(*raw)
                                    .map(|a| std::net::IpAddr::from(a).to_string())
                                    .ok(),
                                _ => None,
                            };
                            if let Some(ip) = ip {
                                san.push(format!("IP Address:{ip}"));
                                ips.push(ip);
                            }
                        }
                        GeneralName::RFC822Name(m) => san.push(format!("email:{m}")),
                        GeneralName::URI(u) => san.push(format!("URI:{u}")),
                        _ => {}
                    }
                }
            }
            ParsedExtension::SubjectKeyIdentifier(id) => put("subject_key_id", Some(hex(id.0))),
            ParsedExtension::AuthorityKeyIdentifier(aki) => put(
                "authority_key_id",
                aki.key_identifier.as_ref().map(|id| hex(id.0)),
            ),
            _ => {}
        }
    }
    put("domains", Some(dns.join(",")));
    put("ip_addresses", Some(ips.join(",")));
    put("subject_alternative_names", Some(san.join(", ")));
    if let Some((_, chain)) = certs.next() {
        put("chain_subject", Some(name(chain.subject())));
        put("chain_issuer", Some(name(chain.issuer())));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn not_pem_is_refused() {
        assert!(check_pem(b"hello").is_err());
        assert!(
            check_pem(b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n").is_err()
        );
        assert!(details(b"hello").is_empty());
    }
}
