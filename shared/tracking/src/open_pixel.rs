//! The image the open endpoint serves.

/// The smallest widely supported transparent image: a 1×1 GIF89a whose only pixel is
/// colour 0, marked transparent by the graphic control extension.
const TRANSPARENT_GIF: [u8; 43] = [
    b'G', b'I', b'F', b'8', b'9', b'a', // signature and version
    0x01, 0x00, 0x01, 0x00, // logical screen 1×1
    0x80, 0x00, 0x00, // global colour table of 2 entries, background 0, no aspect ratio
    0x00, 0x00, 0x00, 0xFF, 0xFF, 0xFF, // colour table: black, white
    0x21, 0xF9, 0x04, 0x01, 0x00, 0x00, 0x00, 0x00, // graphic control: colour 0 transparent
    0x2C, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, // image at 0,0, 1×1
    0x02, 0x02, 0x44, 0x01, 0x00, // LZW minimum code size 2, one data block, end
    0x3B, // trailer
];

/// A valid 1×1 transparent GIF (43 bytes), served as `image/gif`.
pub fn open_pixel_gif() -> &'static [u8] {
    &TRANSPARENT_GIF
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn is_a_43_byte_gif89a() {
        let gif = open_pixel_gif();
        assert_eq!(gif.len(), 43);
        assert_eq!(&gif[..6], b"GIF89a");
        assert_eq!(gif.last(), Some(&0x3B));
    }

    #[test]
    fn is_one_by_one_and_transparent() {
        let gif = open_pixel_gif();
        let width = u16::from_le_bytes([gif[6], gif[7]]);
        let height = u16::from_le_bytes([gif[8], gif[9]]);
        assert_eq!((width, height), (1, 1));
        // Graphic control extension: transparency flag set, transparent index 0.
        assert_eq!(&gif[19..22], [0x21, 0xF9, 0x04]);
        assert_eq!(gif[22] & 0x01, 0x01);
        assert_eq!(gif[25], 0x00);
        // The image descriptor also says 1×1.
        assert_eq!(gif[27], 0x2C);
        assert_eq!(&gif[32..36], [0x01, 0x00, 0x01, 0x00]);
    }
}
