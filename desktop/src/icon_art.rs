//! The tray icon, drawn as RGBA pixels from a [`TrayStatus`]: a coloured disc for the aggregate
//! state, a dot for unread events and a slash-free "moon" notch for do-not-disturb. Drawing it
//! (instead of shipping one PNG per combination) keeps every state consistent and lets a test
//! check the pixels; it needs no image decoder at run time.

use sse_tray::tray_status::{Look, TrayStatus};

/// Side of the square icon, in pixels (tray hosts scale it).
pub const SIZE: u32 = 32;

type Rgba = [u8; 4];

const CONNECTED: Rgba = [22, 163, 74, 255];
const CONNECTING: Rgba = [234, 179, 8, 255];
const PAUSED: Rgba = [107, 114, 128, 255];
const ERROR: Rgba = [220, 38, 38, 255];
const UNREAD: Rgba = [37, 99, 235, 255];
const WHITE: Rgba = [255, 255, 255, 255];

/// The colour of the disc for a look.
pub fn colour(look: Look) -> Rgba {
    match look {
        Look::Connected => CONNECTED,
        Look::Connecting => CONNECTING,
        Look::Paused => PAUSED,
        Look::Error => ERROR,
    }
}

/// `SIZE`×`SIZE` RGBA pixels, row by row.
pub fn render(status: &TrayStatus) -> Vec<u8> {
    let mut pixels = vec![0u8; (SIZE * SIZE * 4) as usize];
    let size = SIZE as f32;
    let disc = colour(status.look);
    for y in 0..SIZE {
        for x in 0..SIZE {
            let (px, py) = (x as f32 + 0.5, y as f32 + 0.5);
            let in_circle =
                |cx: f32, cy: f32, r: f32| (px - cx).powi(2) + (py - cy).powi(2) <= r * r;
            let mut colour = None;
            if in_circle(size * 0.45, size * 0.55, size * 0.40) {
                colour = Some(disc);
                // Do-not-disturb: a white bar across the disc (the usual "no entry" sign).
                if status.quiet
                    && (py - size * 0.55).abs() <= size * 0.07
                    && (px - size * 0.45).abs() <= size * 0.25
                {
                    colour = Some(WHITE);
                }
            }
            if status.unread {
                if in_circle(size * 0.78, size * 0.22, size * 0.22) {
                    colour = Some(WHITE);
                }
                if in_circle(size * 0.78, size * 0.22, size * 0.16) {
                    colour = Some(UNREAD);
                }
            }
            if let Some(rgba) = colour {
                let at = ((y * SIZE + x) * 4) as usize;
                pixels[at..at + 4].copy_from_slice(&rgba);
            }
        }
    }
    pixels
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(look: Look, quiet: bool, unread: bool) -> TrayStatus {
        TrayStatus {
            look,
            quiet,
            unread,
            tooltip: String::new(),
            status_line: String::new(),
        }
    }

    fn pixel(pixels: &[u8], x: f32, y: f32) -> [u8; 4] {
        let (x, y) = ((x * SIZE as f32) as u32, (y * SIZE as f32) as u32);
        let at = ((y * SIZE + x) * 4) as usize;
        [pixels[at], pixels[at + 1], pixels[at + 2], pixels[at + 3]]
    }

    #[test]
    fn each_state_has_its_own_colour_and_markers() {
        let plain = render(&status(Look::Connected, false, false));
        assert_eq!(plain.len(), (SIZE * SIZE * 4) as usize);
        assert_eq!(pixel(&plain, 0.45, 0.80), CONNECTED);
        assert_eq!(pixel(&plain, 0.78, 0.22)[3], 0, "no unread dot");
        assert_eq!(pixel(&plain, 0.02, 0.02)[3], 0, "corners are transparent");

        let busy = render(&status(Look::Error, true, true));
        assert_eq!(pixel(&busy, 0.45, 0.80), ERROR);
        assert_eq!(pixel(&busy, 0.78, 0.22), UNREAD);
        assert_eq!(pixel(&busy, 0.30, 0.55), WHITE, "do-not-disturb bar");
        assert_ne!(colour(Look::Paused), colour(Look::Connecting));
    }
}
