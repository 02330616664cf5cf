//! ACME certificates of the running HAProxy (3.2 and later): `acme status`
//! and `acme renew`.

use crate::client::Runtime;
use crate::socket::{arg, RuntimeError};

/// One line of `acme status`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AcmeCertificate {
    pub certificate: String,
    pub section: String,
    /// `Running`, `Scheduled` or `Stopped`.
    pub state: String,
    /// ISO 8601, UTC.
    pub expiry_date: Option<String>,
    pub expires_in: Option<String>,
    pub scheduled_date: Option<String>,
    pub scheduled_in: Option<String>,
}

/// Parses the tab-separated lines of `acme status` (the `#` line names the
/// columns; `-` is no value).
pub fn parse_acme_status(answer: &str) -> Vec<AcmeCertificate> {
    let value = |s: Option<&str>| {
        s.map(str::trim)
            .filter(|s| !s.is_empty() && *s != "-")
            .map(str::to_owned)
    };
    answer
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .filter_map(|line| {
            let mut cols = line.split('\t');
            let certificate = value(cols.next())?;
            Some(AcmeCertificate {
                certificate,
                section: value(cols.next()).unwrap_or_default(),
                state: value(cols.next()).unwrap_or_default(),
                expiry_date: value(cols.next()),
                expires_in: value(cols.next()),
                scheduled_date: value(cols.next()),
                scheduled_in: value(cols.next()),
            })
        })
        .collect()
}

impl Runtime {
    /// The certificates HAProxy manages with ACME.
    pub async fn acme_status(&self) -> Result<Vec<AcmeCertificate>, RuntimeError> {
        let command = "acme status";
        let answer = self.execute(command).await?;
        if !answer.starts_with('#') && !answer.trim().is_empty() {
            return Err(RuntimeError::refused(command, &answer));
        }
        Ok(parse_acme_status(&answer))
    }

    /// Starts the renewal of `certificate`; HAProxy answers nothing when
    /// the task started.
    pub async fn acme_renew(&self, certificate: &str) -> Result<(), RuntimeError> {
        let command = format!("acme renew {}", arg(certificate)?);
        let answer = self.execute(&command).await?;
        match answer.trim().is_empty() {
            true => Ok(()),
            false => Err(RuntimeError::refused(&command, &answer)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_lines_are_read_by_column() {
        let answer = "# certificate\tsection\tstate\texpiration date (UTC)\texpires in\tscheduled date (UTC)\tscheduled in\n\
            @certificates/www\tle\tRunning\t2026-12-25T02:27:12Z\t20d 5h18m03s\t-\t-\n\n";
        let parsed = parse_acme_status(answer);
        assert_eq!(
            parsed,
            vec![AcmeCertificate {
                certificate: "@certificates/www".into(),
                section: "le".into(),
                state: "Running".into(),
                expiry_date: Some("2026-12-25T02:27:12Z".into()),
                expires_in: Some("20d 5h18m03s".into()),
                scheduled_date: None,
                scheduled_in: None,
            }]
        );
        assert!(parse_acme_status("# certificate\tsection\n\n").is_empty());
    }
}
