//! TLS set-up shared by the HTTP origin and the Redis connections.

/// Makes ring the process's rustls crypto provider, once. reqwest and
/// redis are built without a provider of their own (the default one,
/// aws-lc, needs more than a C compiler to build).
pub fn install_crypto_provider() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // Err means another part of the process installed one first: fine.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}
