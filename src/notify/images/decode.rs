//! Is it an image we are willing to hand to the notification server? Bytes in, a verdict out, no
//! I/O. The notification server decodes whatever file it is given with its own libraries (often
//! GdkPixbuf, with every loader installed), so the app decodes first, with only the four formats
//! ntfy clients show compiled in, under limits that stop a decompression bomb (a few hundred
//! bytes claiming 60 000 × 60 000 pixels) before it allocates: anything else never reaches it.

use std::io::Cursor;

use image::{ImageFormat, ImageReader, Limits};

use super::ImageRefused;

/// The widest and tallest image accepted, in pixels.
pub const MAX_SIDE: u32 = 4096;
/// The most memory the decoder may allocate for one image, in bytes.
pub const MAX_DECODE_ALLOC: u64 = 32 * 1024 * 1024;

/// The formats accepted: what ntfy's own clients show.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ImageKind {
    /// PNG.
    Png,
    /// JPEG.
    Jpeg,
    /// WebP.
    WebP,
    /// GIF (the first frame is what most servers show).
    Gif,
}

impl ImageKind {
    /// Every accepted kind.
    pub const ALL: [Self; 4] = [Self::Png, Self::Jpeg, Self::WebP, Self::Gif];

    /// The file extension the cache uses, so the notification server picks the right loader.
    pub fn extension(self) -> &'static str {
        match self {
            Self::Png => "png",
            Self::Jpeg => "jpg",
            Self::WebP => "webp",
            Self::Gif => "gif",
        }
    }

    /// The MIME type, for a `data:` URL.
    pub fn mime(self) -> &'static str {
        match self {
            Self::Png => "image/png",
            Self::Jpeg => "image/jpeg",
            Self::WebP => "image/webp",
            Self::Gif => "image/gif",
        }
    }

    fn from_format(format: ImageFormat) -> Option<Self> {
        match format {
            ImageFormat::Png => Some(Self::Png),
            ImageFormat::Jpeg => Some(Self::Jpeg),
            ImageFormat::WebP => Some(Self::WebP),
            ImageFormat::Gif => Some(Self::Gif),
            _ => None,
        }
    }
}

/// Accepts `bytes` only if their magic number says PNG, JPEG, WebP or GIF (whatever the server's
/// `Content-Type` claimed) and they decode completely within [`MAX_SIDE`] and
/// [`MAX_DECODE_ALLOC`].
pub fn check(bytes: &[u8]) -> Result<ImageKind, ImageRefused> {
    let mut reader = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|_| ImageRefused::NotAnImage)?;
    let kind = reader
        .format()
        .and_then(ImageKind::from_format)
        .ok_or(ImageRefused::NotAnImage)?;
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(MAX_DECODE_ALLOC);
    reader.limits(limits);
    reader
        .decode()
        .map_err(|error| ImageRefused::Undecodable(error.to_string()))?;
    Ok(kind)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png(width: u32, height: u32) -> Vec<u8> {
        let mut out = Cursor::new(Vec::new());
        image::RgbaImage::new(width, height)
            .write_to(&mut out, ImageFormat::Png)
            .unwrap();
        out.into_inner()
    }

    #[test]
    fn a_small_png_and_gif_pass_with_their_kind() {
        assert_eq!(check(&png(1, 1)).unwrap(), ImageKind::Png);
        let mut gif = Cursor::new(Vec::new());
        image::RgbaImage::new(2, 2)
            .write_to(&mut gif, ImageFormat::Gif)
            .unwrap();
        assert_eq!(check(gif.get_ref()).unwrap(), ImageKind::Gif);
    }

    #[test]
    fn html_svg_and_empty_bodies_are_not_images() {
        for body in [
            &b"<!doctype html><title>404</title>"[..],
            b"<svg xmlns='http://www.w3.org/2000/svg'/>",
            b"",
            b"BM\0\0\0\0",
        ] {
            assert!(
                matches!(check(body), Err(ImageRefused::NotAnImage)),
                "{body:?}"
            );
        }
    }

    #[test]
    fn a_truncated_png_is_refused() {
        let whole = png(8, 8);
        let cut = &whole[..whole.len() / 2];
        assert!(matches!(check(cut), Err(ImageRefused::Undecodable(_))));
    }

    #[test]
    fn a_picture_beyond_the_size_limit_is_refused_before_decoding() {
        // A few hundred bytes claiming more pixels than allowed: the header is enough to say no.
        let wide = png(MAX_SIDE + 1, 1);
        assert!(wide.len() < 4096, "{}", wide.len());
        assert!(matches!(check(&wide), Err(ImageRefused::Undecodable(_))));
        assert_eq!(check(&png(MAX_SIDE, 1)).unwrap(), ImageKind::Png);
    }
}
