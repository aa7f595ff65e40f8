//! Digests as the clouds and the library write them: lowercase hex.

/// `bytes` as lowercase hex, two digits a byte.
pub fn lower_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn two_digits_a_byte() {
        assert_eq!(super::lower_hex(&[0x00, 0x0f, 0xab]), "000fab");
    }
}
