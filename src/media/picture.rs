//! An encoded preview, ready to draw: what the preview cache holds, the pipeline delivers and the
//! picture layer draws. Cloning one is cheap (the encoded bytes are shared), so handing a cached
//! preview to the screen copies no escape strings.

use std::sync::Arc;

use ratatui::buffer::Buffer;
use ratatui::layout::{Rect, Size};
use ratatui::widgets::Widget;
use ratatui_image::Image;
use ratatui_image::protocol::Protocol;

use super::kitty::KittyPicture;

#[derive(Clone)]
pub enum Picture {
    /// Drawn by ratatui-image: half-blocks, iTerm2, and the blobs xmedia puts in its sixel
    /// carrier (sixel, kitty placed directly).
    Protocol(Arc<Protocol>),
    /// Kitty with unicode placeholders ([`super::kitty`]).
    Kitty(KittyPicture),
}

impl Picture {
    /// The box it fills, in cells.
    pub fn size(&self) -> Size {
        match self {
            Self::Protocol(p) => p.size(),
            Self::Kitty(k) => k.size(),
        }
    }

    /// ratatui-image's protocol value, when it is one.
    pub fn protocol(&self) -> Option<&Protocol> {
        match self {
            Self::Protocol(p) => Some(p),
            Self::Kitty(_) => None,
        }
    }
}

impl From<Protocol> for Picture {
    fn from(p: Protocol) -> Self {
        Self::Protocol(Arc::new(p))
    }
}

impl std::fmt::Debug for Picture {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = match self {
            Self::Protocol(p) => match p.as_ref() {
                Protocol::Halfblocks(_) => "halfblocks",
                Protocol::Sixel(_) => "sixel",
                Protocol::Kitty(_) => "kitty (ratatui-image)",
                Protocol::ITerm2(_) => "iterm2",
            },
            Self::Kitty(_) => "kitty",
        };
        f.debug_struct("Picture")
            .field("kind", &kind)
            .field("cells", &self.size())
            .finish()
    }
}

/// Drawn in the top-left of `area`, and not at all when `area` is smaller than the picture (as
/// ratatui-image's `Image` does: a cut-off sixel would scroll the screen).
impl Widget for &Picture {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let size = self.size();
        if area.width == 0
            || area.height == 0
            || size.width > area.width
            || size.height > area.height
        {
            return;
        }
        match self {
            Picture::Protocol(p) => Image::new(p).render(area, buf),
            Picture::Kitty(k) => k.render(area, buf),
        }
    }
}
